//! Dispatch against the fake Twilio over loopback, on a real (SQLite) event store: every
//! way an attempt can end, and the crashes between its steps. A text is sent once.

mod world;

use casewire_bus::jobs::run_due;
use casewire_messaging::message::{MessageCommand, Outbound};
use casewire_sms::twilio::{Credentials, Delivery, Sender, TwilioClient};
use casewire_tenancy::TenantCommand;
use world::{world, CLIENT, FROM, SID, TENANT, TOKEN};

/// An attempt begun now, that Twilio may send for an hour.
fn begin() -> MessageCommand {
    begun(chrono::TimeDelta::zero())
}

/// An attempt begun `ago`, that Twilio could send for an hour after.
fn begun(ago: chrono::TimeDelta) -> MessageCommand {
    let at = chrono::Utc::now() - ago;
    MessageCommand::BeginDispatch {
        provider: "twilio".into(),
        now: at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        valid_for: 3600,
    }
}

#[tokio::test]
async fn a_text_is_sent_once_with_the_status_callback_naming_it() {
    let w = world().await;
    let id = w.queue("Court is Monday at 9").await;
    assert_eq!(w.dispatch().await, 1);
    assert_eq!(w.message(&id).await.status, "accepted");
    let sent = w.twilio.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].status_callback.as_deref(),
        Some(
            format!("https://casewire.example.org/webhooks/twilio/{TENANT}/status?message_id={id}")
                .as_str()
        )
    );
    assert_eq!(w.dispatch().await, 0, "nothing left to do");
    assert_eq!(w.twilio.requests_count(), 1);
    // Twilio is told how long it may hold the text (an advocate's: an hour) and which
    // attempt this is.
    let form = &w.twilio.requests()[0].form;
    let field = |name: &str| {
        form.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(
        (field("ValidityPeriod"), field("Attempt")),
        (Some("3600"), Some("1"))
    );
}

#[tokio::test]
async fn a_crash_after_twilio_accepted_but_before_the_answer_was_recorded_does_not_send_again() {
    let w = world().await;
    let body = "Bring your lease to the meeting";
    let id = w.queue(body).await;
    // The dispatcher recorded its attempt, called Twilio, and died before recording the answer.
    w.record(&id, begin()).await;
    TwilioClient::new(&w.twilio.url())
        .send(
            &Credentials::new(SID, TOKEN),
            &Sender::From(FROM.into()),
            CLIENT,
            body,
            &Delivery::default(),
        )
        .await
        .unwrap();
    assert_eq!(w.dispatch().await, 1);
    let m = w.message(&id).await;
    assert_eq!(m.status, "accepted");
    assert_eq!(w.sent(body), 1, "looked up, not sent again");
}

/// A crash before the call reached Twilio: the list has no such text, but Twilio could
/// still hold it in its queue until the attempt's validity passes, so it is sent again
/// only then (here: begun more than an hour and five minutes ago).
#[tokio::test]
async fn a_crash_before_the_call_reached_twilio_sends_it_once_its_validity_has_passed() {
    let w = world().await;
    let body = "Your hearing moved to 10am";
    let id = w.queue(body).await;
    w.record(&id, begin()).await;
    assert_eq!(w.dispatch().await, 1);
    assert_eq!(
        (w.message(&id).await.status.as_str(), w.sent(body)),
        ("queued", 0),
        "not in the list, but Twilio may still have it queued: not sent again yet"
    );

    let late = w.queue("Bring the notice").await;
    w.record(&late, begun(chrono::TimeDelta::minutes(66))).await;
    w.dispatch().await;
    assert_eq!(w.message(&late).await.status, "accepted");
    assert_eq!(w.sent("Bring the notice"), 1);
}

/// The answer was lost and the text sits in Twilio's queue, invisible to the list:
/// Twilio's own status callback, sent to the text's callback URL with its id and SID,
/// settles it; nothing is sent again.
#[tokio::test]
async fn twilios_status_callback_settles_an_attempt_whose_answer_was_lost() {
    let w = world().await;
    w.twilio.hold_next(1);
    w.twilio.lose_next_answers(1);
    let id = w.queue("Court is at 9").await;
    assert_eq!(w.dispatch().await, 1);
    assert_eq!(
        w.dispatch_due().await,
        0,
        "looked up, and looks again later"
    );
    let sid = w.twilio.sent()[0].sid.clone();
    w.record(
        &id,
        MessageCommand::ReportStatus {
            status: "sent".into(),
            error_code: None,
            provider_sid: Some(sid.clone()),
        },
    )
    .await;
    let m = w.message(&id).await;
    assert_eq!(m.status, "sent");
    assert_eq!(w.twilio.sent().len(), 1);
    // A report naming another SID for the same text changes nothing.
    w.record(
        &id,
        MessageCommand::ReportStatus {
            status: "undelivered".into(),
            error_code: Some("30003".into()),
            provider_sid: Some("SM00000000000000000000000000000000".into()),
        },
    )
    .await;
    assert_eq!(w.message(&id).await.status, "sent");
}

/// With bodies redacted in Twilio's list, a text to the client since the attempt cannot
/// be told from ours: the text ends `unknown`, for staff, never sent blindly.
#[tokio::test]
async fn a_lookup_that_cannot_tell_ends_the_text_unknown() {
    let w = world().await;
    w.twilio.redact_bodies();
    w.twilio.lose_next_answers(1);
    let id = w.queue("Your papers are ready").await;
    w.dispatch().await;
    w.dispatch().await;
    let m = w.message(&id).await;
    assert_eq!(m.status, "unknown");
    let reason = m.error_reason.unwrap_or_default();
    assert!(
        reason.contains("bodies it does not show") && reason.contains(&w.twilio.sent()[0].sid),
        "{reason}"
    );
    assert_eq!(w.twilio.sent().len(), 1);
}

#[tokio::test]
async fn a_5xx_is_looked_up_before_a_resend_and_a_lost_answer_is_found() {
    let w = world().await;
    w.twilio.fail_next(1, 500, None);
    let first = w.queue("first").await;
    w.dispatch().await;
    assert_eq!(
        w.message(&first).await.status,
        "queued",
        "uncertain: not failed, not resent at once"
    );
    w.dispatch().await;
    assert_eq!(
        (w.message(&first).await.status.as_str(), w.sent("first")),
        ("queued", 0),
        "not in the list yet: looked up again later, not resent"
    );

    w.twilio.lose_next_answers(1);
    let second = w.queue("second").await;
    w.dispatch().await;
    w.dispatch().await;
    assert_eq!(w.message(&second).await.status, "accepted");
    assert_eq!(w.sent("second"), 1, "Twilio had it: not sent twice");
}

#[tokio::test]
async fn a_text_whose_lookups_keep_failing_ends_unknown_and_is_never_sent_blindly() {
    let w = world().await;
    let lookups = casewire_events::message::MAX_LOOKUPS as usize;
    // The send answers 500 (it may have gone), then every look-up of it fails too.
    w.twilio.fail_next(1 + lookups, 503, None);
    let id = w.queue("Your hearing moved").await;
    for run in 1..=lookups {
        assert_eq!(w.dispatch().await, 1, "run {run}");
        assert_eq!(w.message(&id).await.status, "queued", "run {run}");
    }
    assert_eq!(w.dispatch().await, 1);
    let m = w.message(&id).await;
    assert_eq!(m.status, "unknown");
    let reason = m.error_reason.unwrap_or_default();
    assert!(reason.contains("will not send it again"), "{reason}");
    assert_eq!(w.dispatch().await, 0, "no job left: it is staff's to check");
    assert_eq!(w.twilio.requests_count(), 1, "one send, never a second");
    assert_eq!(w.twilio.list_requests().len(), lookups, "and the look-ups");
    assert_eq!(w.twilio.sent().len(), 0);
}

#[tokio::test]
async fn a_429_is_retried_and_a_refusal_fails_the_text_with_twilios_code() {
    let w = world().await;
    w.twilio.fail_next(1, 429, Some(20429));
    let id = w.queue("hello").await;
    w.dispatch().await;
    assert_eq!(w.message(&id).await.status, "queued");
    w.dispatch().await;
    assert_eq!(w.message(&id).await.status, "accepted");
    assert_eq!(w.sent("hello"), 1);

    w.twilio.reject_number(
        CLIENT,
        400,
        21610,
        "Attempt to send to unsubscribed recipient",
    );
    let id = w.queue("again").await;
    w.dispatch().await;
    let m = w.message(&id).await;
    assert_eq!(
        (m.status.as_str(), m.error_code.as_deref()),
        ("failed", Some("21610"))
    );
    assert!(m.error_reason.unwrap().contains("STOP"));
    assert_eq!(w.dispatch().await, 0, "a refusal is final");
}

#[tokio::test]
async fn two_dispatchers_at_once_send_each_text_once() {
    let w = world().await;
    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push(w.queue(&format!("text {i}")).await);
    }
    let (a, b) = tokio::join!(
        run_due(&w.store, w.dispatcher.as_ref()),
        run_due(&w.store, w.dispatcher.as_ref())
    );
    assert_eq!(
        a.unwrap() + b.unwrap(),
        20,
        "each job was claimed by one of them"
    );
    assert_eq!(w.twilio.sent().len(), 20);
    for id in ids {
        assert_eq!(w.message(&id).await.status, "accepted");
    }
}

/// Messaging checks consent from its own copy of consent's events; a STOP recorded after a
/// text was queued and before it goes still stops it.
#[tokio::test]
async fn a_stop_recorded_after_a_text_was_queued_stops_it_at_dispatch() {
    let w = world().await;
    let id = w.queue("See you at the clinic on Tuesday").await;
    w.consent("revoked").await;
    assert_eq!(w.dispatch().await, 1);
    let m = w.message(&id).await;
    assert_eq!(
        (m.status.as_str(), m.error_code.as_deref()),
        ("failed", Some(casewire_messaging::dispatch::WITHDRAWN))
    );
    assert_eq!(w.twilio.requests_count(), 0, "nothing reached Twilio");
    // And the next text is refused when it is asked for.
    let refused = w.send("C-1", "Are you there?", "conversation").await;
    assert_eq!(refused.unwrap_err().code, casewire_bus::ErrorCode::Conflict);
}

/// Twilio's 21611 (the sending number's queue is full) is a moment's refusal, not the
/// text's end: it goes on a later attempt (twilio.com/docs/api/errors/21611).
#[tokio::test]
async fn a_full_queue_at_twilio_holds_the_text_and_it_goes_later() {
    let w = world().await;
    w.twilio.fail_next(1, 400, Some(21611));
    let id = w.queue("Court is Monday").await;
    w.dispatch().await;
    let m = w.message(&id).await;
    assert_eq!(m.status, "queued", "{:?}", m.error_reason);
    w.dispatch().await;
    assert_eq!(w.message(&id).await.status, "accepted");
    assert_eq!(w.sent("Court is Monday"), 1);
}

/// Delivery failures Twilio reports in its status callbacks come with a reason an advocate
/// can act on (twilio.com/docs/api/errors/30007 and the others in casewire_sms::codes), and
/// `partially_delivered` is a status Twilio sends.
#[tokio::test]
async fn delivery_reports_carry_reasons_for_people_and_partially_delivered_counts() {
    let w = world().await;
    let id = w.queue("Your hearing is at 9").await;
    w.dispatch().await;
    let report = |status: &str, code: Option<&str>| MessageCommand::ReportStatus {
        status: status.into(),
        error_code: code.map(Into::into),
        provider_sid: Some(w.twilio.sent()[0].sid.clone()),
    };
    w.record(&id, report("undelivered", Some("30007"))).await;
    let m = w.message(&id).await;
    assert_eq!(
        (m.status.as_str(), m.error_code.as_deref()),
        ("undelivered", Some("30007"))
    );
    assert!(
        m.error_reason
            .unwrap_or_default()
            .contains("filtered the text as spam"),
        "an advocate is told what 30007 means"
    );

    let id = w.queue("Bring the photos").await;
    w.dispatch().await;
    let sid = w.twilio.sent()[1].sid.clone();
    w.record(
        &id,
        MessageCommand::ReportStatus {
            status: "partially_delivered".into(),
            error_code: None,
            provider_sid: Some(sid),
        },
    )
    .await;
    assert_eq!(w.message(&id).await.status, "partially_delivered");
}

/// Twilio's 20003 after the auth token was rotated in its console: the tenant's texts are
/// held, queued, not failed, and the admin is told why; setting the provider again sends
/// them (twilio.com/docs/api/errors/20003).
#[tokio::test]
async fn refused_credentials_hold_the_tenants_texts_until_the_provider_is_set_again() {
    let w = world().await;
    // One text meets the refusal; one queued after it is held without being tried.
    w.twilio.fail_next(1, 401, Some(20003));
    let first = w.queue("Court is Monday").await;
    w.dispatch().await;
    w.catch_up().await;
    let second = w.queue("Bring your lease").await;
    let refusal = casewire_messaging::refusals::find(&w.store, TENANT)
        .await
        .unwrap()
        .expect("the admin is told");
    assert_eq!(refusal.code, "20003");
    assert!(
        refusal.reason.contains("sms-provider"),
        "{}",
        refusal.reason
    );

    let asked = w.twilio.requests_count();
    w.dispatch().await;
    assert_eq!(w.twilio.requests_count(), asked, "held: nothing is tried");
    for id in [&first, &second] {
        assert_eq!(w.message(id).await.status, "queued");
    }

    w.tenant(TenantCommand::ConfigureSms(world::twilio_settings()))
        .await;
    w.catch_up().await;
    w.dispatch().await;
    for id in [&first, &second] {
        assert_eq!(w.message(id).await.status, "accepted");
    }
    assert_eq!(w.sent("Court is Monday") + w.sent("Bring your lease"), 2);
    assert!(casewire_messaging::refusals::find(&w.store, TENANT)
        .await
        .unwrap()
        .is_none());
}

/// A reminder is of no use once its appointment has begun: not sent after, and Twilio is
/// told to drop it by then (`ValidityPeriod`, twilio.com/docs/messaging/api/message-resource).
#[tokio::test]
async fn a_reminder_is_not_sent_after_its_appointment_and_twilio_drops_it_by_then() {
    let w = world().await;
    let reminder = |id: &str, body: &str, expires: chrono::TimeDelta| {
        let at = chrono::Utc::now() + expires;
        (
            id.to_string(),
            MessageCommand::Queue(Outbound {
                case_id: Some("C-1".into()),
                to: CLIENT.into(),
                body: body.into(),
                purpose: casewire_events::message::Purpose::System,
                expires_at: Some(at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
                ..Outbound::default()
            }),
        )
    };
    let (late, queue) = reminder("r-late", "Court at 9", chrono::TimeDelta::minutes(-1));
    w.record(&late, queue).await;
    let (soon, queue) = reminder(
        "r-soon",
        "Court in ten minutes",
        chrono::TimeDelta::minutes(10),
    );
    w.record(&soon, queue).await;
    w.catch_up().await;
    w.dispatch().await;
    let m = w.message(&late).await;
    assert_eq!(
        (m.status.as_str(), m.error_code.as_deref()),
        ("failed", Some("expired"))
    );
    assert_eq!(w.sent("Court at 9"), 0);
    assert_eq!(w.message(&soon).await.status, "accepted");
    let form = &w.twilio.requests()[0].form;
    let validity: u32 = form
        .iter()
        .find(|(n, _)| n == "ValidityPeriod")
        .map(|(_, v)| v.parse().unwrap())
        .unwrap();
    assert!((540..=600).contains(&validity), "{validity}");
}

/// A campaign's texts wait behind an advocate's: with more bulk texts due than one claim
/// takes, the advocate's text queued after them goes in the first claim.
#[tokio::test]
async fn an_advocates_text_goes_before_the_bulk_texts_queued_ahead_of_it() {
    let w = world().await;
    w.consent("granted").await;
    w.tenant(casewire_tenancy::TenantCommand::SetPolicy(
        casewire_tenancy::Policy {
            quiet_hours: None,
            ..Default::default()
        },
    ))
    .await;
    for i in 0..80 {
        w.send("C-1", &format!("Clinic on Saturday ({i})"), "bulk")
            .await
            .unwrap();
    }
    w.queue("Your hearing moved to 2pm").await;
    let claimed = w.dispatch_due().await;
    assert!(
        claimed < 81,
        "one claim takes part of what is due: {claimed}"
    );
    assert_eq!(
        w.sent("Your hearing moved to 2pm"),
        1,
        "the advocate's text went first"
    );
}
