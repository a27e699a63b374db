//! The Twilio client against the fake Twilio of casewire-testkit, over real HTTP on
//! loopback; and the fake's signed webhooks against `signature::verify`.

use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::{Form, Router};
use casewire_sms::signature;
use casewire_sms::twilio::{
    Credentials, Delivery, FailureKind, Lookup, RetryPolicy, SendError, Sender, TwilioClient,
};
use casewire_testkit::FakeTwilio;
use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::mpsc;

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "tok-7f3a9c-secret";
const FROM: &str = "+13125550100";
const TO: &str = "+13125550199";
const BODY: &str = "Your hearing is on Monday at 9am. Reply YES to confirm.";

fn creds() -> Credentials {
    Credentials::new(SID, TOKEN)
}

fn tiny_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base: Duration::from_millis(1),
        cap: Duration::from_millis(5),
    }
}

async fn fake() -> (FakeTwilio, TwilioClient) {
    let fake = FakeTwilio::start().await;
    fake.account(SID, TOKEN);
    let client = TwilioClient::new(&fake.url()).with_retry_policy(tiny_retries(4));
    (fake, client)
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|&(n, v)| (n.to_owned(), v.to_owned()))
        .collect()
}

fn assert_confidential(err: &SendError) {
    for shown in [format!("{err}"), format!("{err:?}"), err.reason()] {
        assert!(!shown.contains(TOKEN), "token leaked: {shown}");
        assert!(!shown.contains(BODY), "body leaked: {shown}");
    }
}

#[tokio::test]
async fn send_posts_twilios_form_with_basic_auth_and_reads_the_created_message() {
    let (fake, client) = fake().await;
    let sent = client
        .send(
            &creds(),
            &Sender::From(FROM.into()),
            TO,
            BODY,
            &Delivery {
                status_callback: Some("https://hooks.example.org/twilio/status?t=1"),
                valid_for: Some(3600),
                attempt: Some(2),
                media_urls: &[],
            },
        )
        .await
        .expect("send");

    assert!(
        sent.sid.starts_with("SM") && sent.sid.len() == 34,
        "{}",
        sent.sid
    );
    assert_eq!(sent.status, "queued");
    assert_eq!(sent.num_segments, Some(1));
    assert_eq!(sent.price, None);
    assert_eq!(sent.error_code, None);

    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].account_sid, SID);
    assert_eq!(
        requests[0].basic_auth,
        Some((SID.to_owned(), TOKEN.to_owned()))
    );
    assert_eq!(
        requests[0].form,
        pairs(&[
            ("To", TO),
            ("From", FROM),
            ("Body", BODY),
            ("SmartEncoded", "true"),
            (
                "StatusCallback",
                "https://hooks.example.org/twilio/status?t=1"
            ),
            ("ValidityPeriod", "3600"),
            ("Attempt", "2"),
        ])
    );

    let recorded = fake.sent();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].sid, sent.sid);
    assert_eq!(recorded[0].account_sid, SID);
    assert_eq!(recorded[0].to, TO);
    assert_eq!(recorded[0].from.as_deref(), Some(FROM));
    assert_eq!(recorded[0].messaging_service_sid, None);
    assert_eq!(recorded[0].body, BODY);
    assert_eq!(
        recorded[0].status_callback.as_deref(),
        Some("https://hooks.example.org/twilio/status?t=1")
    );
}

#[tokio::test]
/// Through a Messaging Service, Twilio's create answer is `accepted` with `num_segments`
/// "0": it has not picked the sender yet (Twilio's Messages API reference, "Send an SMS
/// with a Messaging Service"). casewire's estimate is its own count, never this.
async fn send_through_a_messaging_service_is_accepted_before_its_segments_are_known() {
    let (fake, client) = fake().await;
    // 71 UCS-2 characters: two segments.
    let body = format!("Ñandú {}", "é".repeat(60) + "ğğğğğ");
    let sent = client
        .send(
            &creds(),
            &Sender::MessagingService("MG0123456789abcdef0123456789abcdef".into()),
            TO,
            &body,
            &Delivery::default(),
        )
        .await
        .expect("send");
    assert_eq!(
        (sent.status.as_str(), sent.num_segments),
        ("accepted", Some(0))
    );
    assert_eq!(casewire_sms::segments::count(&body).segments, 2);
    assert_eq!(
        fake.requests()[0].form,
        pairs(&[
            ("To", TO),
            ("MessagingServiceSid", "MG0123456789abcdef0123456789abcdef"),
            ("Body", &body),
            ("SmartEncoded", "true"),
        ])
    );
    assert_eq!(fake.sent()[0].from, None);
}

#[tokio::test]
async fn send_retries_429_and_then_succeeds() {
    let (fake, client) = fake().await;
    fake.fail_next(2, 429, Some(20429));
    let sent = client
        .send(
            &creds(),
            &Sender::From(FROM.into()),
            TO,
            BODY,
            &Delivery::default(),
        )
        .await
        .expect("the third attempt succeeds");
    assert_eq!(fake.requests_count(), 3);
    assert_eq!(fake.sent().len(), 1);
    assert_eq!(fake.sent()[0].sid, sent.sid);
}

#[tokio::test]
async fn send_gives_up_on_429_after_max_attempts_with_the_last_error() {
    let (fake, client) = fake().await;
    let client = client.with_retry_policy(tiny_retries(3));
    fake.fail_next(10, 429, Some(20429));
    let err = client
        .send(
            &creds(),
            &Sender::From(FROM.into()),
            TO,
            BODY,
            &Delivery::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(fake.requests_count(), 3);
    assert_eq!(err.http_status, 429);
    assert_eq!(err.code, Some(20429));
    assert_eq!(err.kind, FailureKind::RateLimited);
    assert!(err.retryable);
    assert_eq!(err.retry_after, Some(Duration::ZERO));
    assert!(fake.sent().is_empty());
}

#[tokio::test]
async fn a_500_is_returned_retryable_after_one_request_without_retrying() {
    let (fake, client) = fake().await;
    fake.fail_next(1, 500, None);
    let err = client
        .send(
            &creds(),
            &Sender::From(FROM.into()),
            TO,
            BODY,
            &Delivery::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        fake.requests_count(),
        1,
        "a 5xx may have sent: never retried"
    );
    assert_eq!(err.http_status, 500);
    assert_eq!(err.kind, FailureKind::ServerError);
    assert!(err.retryable);
    assert_confidential(&err);
}

#[tokio::test]
async fn an_unsubscribed_number_is_a_final_error_with_a_clear_reason() {
    let (fake, client) = fake().await;
    fake.reject_number(TO, 400, 21610, "Attempt to send to unsubscribed recipient");
    let err = client
        .send(
            &creds(),
            &Sender::From(FROM.into()),
            TO,
            BODY,
            &Delivery::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(fake.requests_count(), 1);
    assert_eq!(err.http_status, 400);
    assert_eq!(err.code, Some(21610));
    assert_eq!(err.kind, FailureKind::Rejected);
    assert!(!err.retryable);
    assert_eq!(err.message, "Attempt to send to unsubscribed recipient");
    assert!(err.reason().contains("replied STOP"), "{}", err.reason());
    assert!(err.to_string().contains("21610"), "{err}");
    assert_confidential(&err);
}

#[tokio::test]
async fn an_invalid_number_is_a_final_21211_without_the_number_in_the_reason() {
    let (fake, client) = fake().await;
    let err = client
        .send(
            &creds(),
            &Sender::From(FROM.into()),
            "+1555",
            BODY,
            &Delivery::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(fake.requests_count(), 1);
    assert_eq!(err.http_status, 400);
    assert_eq!(err.code, Some(21211));
    assert!(!err.retryable);
    assert!(err.message.contains("Invalid 'To' Phone Number"));
    assert!(err.reason().contains("not a valid phone number"));
    assert!(!err.to_string().contains("+1555"), "{err}");
}

#[tokio::test]
async fn a_wrong_token_is_a_final_401_20003() {
    let (fake, client) = fake().await;
    let err = client
        .send(
            &Credentials::new(SID, "not-the-token"),
            &Sender::From(FROM.into()),
            TO,
            BODY,
            &Delivery::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(fake.requests_count(), 1);
    assert_eq!(err.http_status, 401);
    assert_eq!(err.code, Some(20003));
    assert!(!err.retryable);
    assert!(err.reason().contains("authentication failed"));
    assert!(!format!("{err:?}").contains("not-the-token"));
    assert!(fake.sent().is_empty());
}

#[tokio::test]
async fn twilios_validation_errors() {
    let (fake, client) = fake().await;
    let err = client
        .send(
            &creds(),
            &Sender::From(FROM.into()),
            "",
            BODY,
            &Delivery::default(),
        )
        .await
        .unwrap_err();
    assert_eq!((err.http_status, err.code), (400, Some(21604)));
    let err = client
        .send(
            &creds(),
            &Sender::From(FROM.into()),
            TO,
            "",
            &Delivery::default(),
        )
        .await
        .unwrap_err();
    assert_eq!((err.http_status, err.code), (400, Some(21602)));
    assert_eq!(fake.requests_count(), 2);
}

#[tokio::test]
async fn connect_errors_are_retried_and_returned_retryable() {
    // A port nobody listens on: bind, note it, close.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client =
        TwilioClient::new(&format!("http://127.0.0.1:{port}")).with_retry_policy(tiny_retries(3));
    let err = client
        .send(
            &creds(),
            &Sender::From(FROM.into()),
            TO,
            BODY,
            &Delivery::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, FailureKind::Connect);
    assert_eq!(err.http_status, 0);
    assert!(err.retryable);
    assert_confidential(&err);
}

/// An hour ago, to the second: a point to set messages' creation times around. In the
/// past, as Twilio lists only messages created by now (noon today was in the future every
/// morning, and the test failed then).
fn an_hour_ago() -> DateTime<Utc> {
    let now = Utc::now() - TimeDelta::hours(1);
    DateTime::from_timestamp(now.timestamp(), 0).unwrap()
}

#[tokio::test]
async fn find_sent_finds_a_message_twilio_accepted_although_its_answer_was_lost() {
    let (fake, client) = fake().await;
    let since = Utc::now();
    fake.lose_next_answers(1);
    let err = client
        .send(
            &creds(),
            &Sender::From(FROM.into()),
            TO,
            BODY,
            &Delivery::default(),
        )
        .await
        .unwrap_err();
    assert_eq!((err.http_status, err.kind), (500, FailureKind::ServerError));
    assert_eq!(fake.requests_count(), 1, "a 5xx is never resent blindly");
    let accepted = fake.sent();
    assert_eq!(accepted.len(), 1, "Twilio did accept it");

    let Lookup::Found(found) = client
        .find_sent(&creds(), TO, BODY, since)
        .await
        .expect("lookup")
    else {
        panic!("the accepted message is found");
    };
    assert_eq!(found.sid, accepted[0].sid);
    assert_eq!(found.num_segments, Some(1));

    // Twilio's list API, with the filters on the wire as Twilio expects them: `DateSent>`
    // in its date-time form (twilio-python's `date_sent_after`), five minutes of clock
    // skew before `since`.
    let lists = fake.list_requests();
    assert_eq!(lists.len(), 1);
    assert_eq!(
        lists[0].basic_auth,
        Some((SID.to_owned(), TOKEN.to_owned()))
    );
    let cutoff = (since - TimeDelta::minutes(5)).format("%Y-%m-%dT%H%%3A%M%%3A%SZ");
    assert_eq!(
        lists[0].raw_query,
        format!("To=%2B13125550199&DateSent%3E={cutoff}&PageSize=100")
    );

    // The knob is spent: the next send is answered normally.
    let sent = client
        .send(
            &creds(),
            &Sender::From(FROM.into()),
            TO,
            "second",
            &Delivery::default(),
        )
        .await
        .expect("answered");
    assert_eq!(fake.sent()[1].sid, sent.sid);
}

#[tokio::test]
async fn find_sent_finds_nothing_when_twilio_never_accepted_the_message() {
    let (fake, client) = fake().await;
    let since = Utc::now();
    fake.fail_next(1, 500, None);
    let err = client
        .send(
            &creds(),
            &Sender::From(FROM.into()),
            TO,
            BODY,
            &Delivery::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, FailureKind::ServerError);
    assert!(fake.sent().is_empty());

    // Near misses: the same text to someone else, another text to the same client.
    let other_client = "+13125550142";
    client
        .send(
            &creds(),
            &Sender::From(FROM.into()),
            other_client,
            BODY,
            &Delivery::default(),
        )
        .await
        .unwrap();
    client
        .send(
            &creds(),
            &Sender::From(FROM.into()),
            TO,
            &format!("{BODY} "),
            &Delivery::default(),
        )
        .await
        .unwrap();

    assert_eq!(
        client.find_sent(&creds(), TO, BODY, since).await,
        Ok(Lookup::NotSent)
    );
    // The lookup itself is what the fake answered, not an empty list by accident.
    assert!(matches!(
        client.find_sent(&creds(), other_client, BODY, since).await,
        Ok(Lookup::Found(_))
    ));
}

#[tokio::test]
async fn find_sent_ignores_the_same_text_sent_before_since() {
    let (fake, client) = fake().await;
    let since = an_hour_ago();
    let (creds, sender) = (creds(), Sender::From(FROM.into()));
    let delivery = Delivery::default();
    let send = || client.send(&creds, &sender, TO, BODY, &delivery);

    let earlier = send().await.unwrap();
    fake.set_date_created(&earlier.sid, since - TimeDelta::minutes(6));
    let yesterday = send().await.unwrap();
    fake.set_date_created(&yesterday.sid, since - TimeDelta::days(1));
    assert_eq!(
        client.find_sent(&creds, TO, BODY, since).await,
        Ok(Lookup::NotSent)
    );

    // Within the five minutes allowed for clock skew, it counts as ours.
    let skewed = send().await.unwrap();
    fake.set_date_created(&skewed.sid, since - TimeDelta::minutes(4));
    let found = client.find_sent(&creds, TO, BODY, since).await.unwrap();
    assert!(matches!(found, Lookup::Found(s) if s.sid == skewed.sid));
}

#[tokio::test]
async fn find_sent_follows_next_page_uri() {
    let (fake, client) = fake().await;
    let since = Utc::now();
    let target = client
        .send(
            &creds(),
            &Sender::From(FROM.into()),
            TO,
            BODY,
            &Delivery::default(),
        )
        .await
        .unwrap();
    // Newer texts push the target onto the second page of 100.
    for i in 0..105 {
        client
            .send(
                &creds(),
                &Sender::From(FROM.into()),
                TO,
                &format!("update {i}"),
                &Delivery::default(),
            )
            .await
            .unwrap();
    }
    let found = client.find_sent(&creds(), TO, BODY, since).await.unwrap();
    assert!(matches!(found, Lookup::Found(s) if s.sid == target.sid));

    let lists = fake.list_requests();
    assert_eq!(lists.len(), 2);
    let page = |name: &str| {
        lists[1]
            .query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(page("Page").as_deref(), Some("1"));
    assert_eq!(page("To").as_deref(), Some(TO));
    assert!(page("PageToken").is_some_and(|t| t.starts_with("PA")));
    assert_eq!(
        lists[1].basic_auth,
        Some((SID.to_owned(), TOKEN.to_owned()))
    );
}

/// The case that made a lookup text a client twice: Twilio documents its list as sorted by
/// `DateSent`, most recent first, and a text still in its queue has no `date_sent`. With
/// 60 older texts to the client, the lost text (held in the queue) is on no first page.
/// The lookup must not read that as "never sent": it says `NotSent` (not handed to a
/// carrier yet), and the dispatcher waits out the text's `ValidityPeriod` before it could
/// send again; once Twilio sends it, the lookup finds it.
#[tokio::test]
async fn a_text_still_in_twilios_queue_behind_older_texts_is_not_sent_yet_and_found_once_sent() {
    let (fake, client) = fake().await;
    let (creds, sender) = (creds(), Sender::From(FROM.into()));
    let since = Utc::now();
    for i in 0..60 {
        let older = client
            .send(
                &creds,
                &sender,
                TO,
                &format!("older {i}"),
                &Delivery::default(),
            )
            .await
            .unwrap();
        fake.set_date_created(&older.sid, since - TimeDelta::days(3));
    }
    fake.hold_next(1);
    fake.lose_next_answers(1);
    let err = client
        .send(&creds, &sender, TO, BODY, &Delivery::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind, FailureKind::ServerError);
    assert_eq!(
        client.find_sent(&creds, TO, BODY, since).await,
        Ok(Lookup::NotSent)
    );
    let ours = fake.sent().pop().unwrap();
    assert_eq!(ours.date_sent, None, "still in Twilio's queue");
    fake.hand_to_carrier(&ours.sid);
    let found = client.find_sent(&creds, TO, BODY, since).await.unwrap();
    assert!(matches!(found, Lookup::Found(s) if s.sid == ours.sid));
}

/// Sends a text whose answer Twilio loses (it keeps the message), as the lost attempt
/// began: the time to look up from.
async fn a_lost_answer(fake: &FakeTwilio, client: &TwilioClient) -> DateTime<Utc> {
    let since = Utc::now();
    fake.lose_next_answers(1);
    let err = client
        .send(
            &creds(),
            &Sender::From(FROM.into()),
            TO,
            BODY,
            &Delivery::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, FailureKind::ServerError);
    since
}

/// With Message Redaction (or a `discard` retention) Twilio's list shows no body: a text
/// to the client since the attempt cannot be told from ours, so the lookup says so.
#[tokio::test]
async fn a_redacted_body_makes_the_lookup_indistinct_never_not_sent() {
    let (fake, client) = fake().await;
    fake.redact_bodies();
    let since = a_lost_answer(&fake, &client).await;
    let sid = fake.sent()[0].sid.clone();
    assert_eq!(
        client.find_sent(&creds(), TO, BODY, since).await,
        Ok(Lookup::Indistinct(vec![sid]))
    );
}

/// A list lags behind the sends: a text created a moment ago may not be listed yet, and
/// the lookup can only say `NotSent`, which the dispatcher does not take as final before
/// the text's `ValidityPeriod` has passed.
#[tokio::test]
async fn a_lagging_list_says_not_sent_yet_for_a_text_just_accepted() {
    let (fake, client) = fake().await;
    fake.lag_lists(Duration::from_secs(60));
    let since = a_lost_answer(&fake, &client).await;
    assert_eq!(
        client.find_sent(&creds(), TO, BODY, since).await,
        Ok(Lookup::NotSent)
    );
}

#[tokio::test]
async fn find_sent_is_an_error_rather_than_none_past_its_page_limit() {
    let (fake, client) = fake().await;
    let since = Utc::now();
    for i in 0..1001 {
        client
            .send(
                &creds(),
                &Sender::From(FROM.into()),
                TO,
                &format!("bulk {i}"),
                &Delivery::default(),
            )
            .await
            .unwrap();
    }
    let err = client
        .find_sent(&creds(), TO, BODY, since)
        .await
        .unwrap_err();
    assert_eq!(err.kind, FailureKind::InvalidResponse);
    assert!(err.message.contains("more than 1000"), "{}", err.message);
    assert!(!err.retryable);
    assert_eq!(fake.list_requests().len(), 10);
    assert_confidential(&err);
}

#[tokio::test]
async fn find_sent_retries_a_failed_lookup_and_reports_a_wrong_token() {
    let (fake, client) = fake().await;
    let since = Utc::now();
    client
        .send(
            &creds(),
            &Sender::From(FROM.into()),
            TO,
            BODY,
            &Delivery::default(),
        )
        .await
        .unwrap();
    // A read is always safe to repeat, 5xx included.
    fake.fail_next(2, 503, None);
    assert!(matches!(
        client.find_sent(&creds(), TO, BODY, since).await,
        Ok(Lookup::Found(_))
    ));
    assert_eq!(fake.list_requests().len(), 3);

    let err = client
        .find_sent(&Credentials::new(SID, "not-the-token"), TO, BODY, since)
        .await
        .unwrap_err();
    assert_eq!((err.http_status, err.code), (401, Some(20003)));
    assert!(!err.retryable);
    assert!(!format!("{err:?}").contains("not-the-token"));
}

/// What a tiny webhook receiver saw: the path and query, the signature header, the form.
type Captured = (String, String, Vec<(String, String)>);

/// A webhook receiver on 127.0.0.1:0 that answers 200 with empty TwiML; returns its base
/// URL and the captured requests.
async fn receiver() -> (String, mpsc::UnboundedReceiver<Captured>) {
    async fn capture(
        State(tx): State<mpsc::UnboundedSender<Captured>>,
        uri: Uri,
        headers: HeaderMap,
        Form(form): Form<Vec<(String, String)>>,
    ) -> &'static str {
        let signature = headers
            .get(signature::HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let _ = tx.send((uri.to_string(), signature, form));
        "<Response/>"
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let app = Router::new().fallback(capture).with_state(tx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), rx)
}

fn get<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn status_callbacks_are_signed_for_the_exact_url() {
    let (fake, client) = fake().await;
    let (base, mut rx) = receiver().await;
    let callback = format!("{base}/twilio/status?tenant=legal-aid-chicago&m=1");
    let sent = client
        .send(
            &creds(),
            &Sender::From(FROM.into()),
            TO,
            BODY,
            &Delivery {
                status_callback: Some(&callback),
                ..Delivery::default()
            },
        )
        .await
        .unwrap();

    assert_eq!(
        fake.send_status_callback(&sent.sid, "delivered", None)
            .await,
        200
    );
    let (path, sig, form) = rx.recv().await.unwrap();
    assert_eq!(path, "/twilio/status?tenant=legal-aid-chicago&m=1");
    assert_eq!(signature::verify(TOKEN, &callback, &form, &sig), Ok(()));
    assert!(signature::verify("other-token", &callback, &form, &sig).is_err());
    assert!(signature::verify(TOKEN, &format!("{base}/twilio/status"), &form, &sig).is_err());
    assert_eq!(get(&form, "MessageSid"), Some(sent.sid.as_str()));
    assert_eq!(get(&form, "SmsSid"), Some(sent.sid.as_str()));
    assert_eq!(get(&form, "MessageStatus"), Some("delivered"));
    assert_eq!(get(&form, "SmsStatus"), Some("delivered"));
    assert_eq!(get(&form, "AccountSid"), Some(SID));
    assert_eq!(get(&form, "From"), Some(FROM));
    assert_eq!(get(&form, "To"), Some(TO));
    assert_eq!(get(&form, "ApiVersion"), Some("2010-04-01"));
    assert_eq!(get(&form, "ErrorCode"), None);
    assert_eq!(fake.sent()[0].status, "delivered");

    assert_eq!(
        fake.send_status_callback(&sent.sid, "undelivered", Some(30006))
            .await,
        200
    );
    let (_, sig, form) = rx.recv().await.unwrap();
    assert_eq!(signature::verify(TOKEN, &callback, &form, &sig), Ok(()));
    assert_eq!(get(&form, "MessageStatus"), Some("undelivered"));
    assert_eq!(get(&form, "ErrorCode"), Some("30006"));
}

#[tokio::test]
async fn inbound_webhooks_are_signed_for_the_exact_url() {
    let fake = FakeTwilio::start().await;
    fake.account(SID, TOKEN);
    let (base, mut rx) = receiver().await;
    let url = format!("{base}/twilio/inbound/t-42");

    let (status, answer) = fake
        .send_inbound(&url, SID, TO, FROM, "STOP", Some("STOP"))
        .await;
    assert_eq!((status, answer.as_str()), (200, "<Response/>"));
    let (path, sig, form) = rx.recv().await.unwrap();
    assert_eq!(path, "/twilio/inbound/t-42");
    assert_eq!(signature::verify(TOKEN, &url, &form, &sig), Ok(()));
    assert!(signature::verify("other-token", &url, &form, &sig).is_err());
    let sid = get(&form, "MessageSid").unwrap();
    assert!(sid.starts_with("SM") && sid.len() == 34);
    assert_eq!(get(&form, "SmsMessageSid"), Some(sid));
    assert_eq!(get(&form, "AccountSid"), Some(SID));
    assert_eq!(get(&form, "From"), Some(TO));
    assert_eq!(get(&form, "To"), Some(FROM));
    assert_eq!(get(&form, "Body"), Some("STOP"));
    assert_eq!(get(&form, "NumMedia"), Some("0"));
    assert_eq!(get(&form, "NumSegments"), Some("1"));
    assert_eq!(get(&form, "OptOutType"), Some("STOP"));

    // Without an opt-out keyword there is no OptOutType; a tampered body fails.
    fake.send_inbound(&url, SID, TO, FROM, "Can we talk tomorrow? 🙏", None)
        .await;
    let (_, sig, mut form) = rx.recv().await.unwrap();
    assert_eq!(signature::verify(TOKEN, &url, &form, &sig), Ok(()));
    assert_eq!(get(&form, "OptOutType"), None);
    assert_eq!(get(&form, "Body"), Some("Can we talk tomorrow? 🙏"));
    form.retain(|(n, _)| n != "Body");
    form.push(("Body".into(), "YES".into()));
    assert!(signature::verify(TOKEN, &url, &form, &sig).is_err());
}

/// Twilio counts a text's segments after Smart Encoding only when the send asks for it
/// (Twilio docs, "Smart Encoding"): a word processor's curly apostrophe costs three UCS-2
/// segments without it and one GSM-7 segment with it. casewire always asks, and its
/// estimate agrees with what Twilio answers.
#[tokio::test]
async fn the_segments_twilio_bills_follow_smart_encoding_as_casewire_asks_for_it() {
    let (fake, client) = fake().await;
    let pasted = format!("Don’t forget court{}", ".".repeat(142));
    let sent = client
        .send(
            &creds(),
            &Sender::From(FROM.into()),
            TO,
            &pasted,
            &Delivery::default(),
        )
        .await
        .unwrap();
    assert_eq!(sent.num_segments, Some(1));
    assert_eq!(casewire_sms::segments::count(&pasted).segments, 1);

    // The same text from a sender that does not ask.
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!(
            "{}/2010-04-01/Accounts/{SID}/Messages.json",
            fake.url()
        ))
        .basic_auth(SID, Some(TOKEN))
        .form(&[("To", TO), ("From", FROM), ("Body", pasted.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["num_segments"], "3");
}
