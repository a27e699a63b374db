//! A fake Twilio on loopback that speaks Twilio's wire format, for tests.
//!
//! It answers `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` like Twilio (HTTP
//! basic auth, form body, Twilio-shaped JSON and error bodies), and lists the messages it
//! accepted on `GET` of the same path, filtered, sorted and paged as Twilio documents
//! (Twilio's API reference, "Read multiple Message resources": sorted by `DateSent`, most
//! recent first; `DateSent`, `DateSent<` and `DateSent>` filters taking a date or a
//! date-time). Where Twilio documents nothing it takes the harder case: a text not yet
//! handed to a carrier has no `date_sent`, is left out by a `DateSent` filter, and sorts
//! after every sent one; a list can lag behind the sends; bodies can be redacted. It can be
//! scripted to fail, or to accept a message and lose the answer, records what it was
//! sent, and drives casewire the way Twilio does: status callbacks and inbound-message
//! webhooks, signed with `X-Twilio-Signature`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Router};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use casewire_sms::signature;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Value};
use tokio::task::JoinHandle;

const API_VERSION: &str = "2010-04-01";
/// Twilio's default and largest `PageSize` of a list.
const DEFAULT_PAGE_SIZE: usize = 50;
const MAX_PAGE_SIZE: usize = 1000;
/// The `From` reported in callbacks for a message sent through a Messaging Service (the
/// fake has no number pool): Twilio's magic "valid" test number.
pub const MESSAGING_SERVICE_NUMBER: &str = "+15005550006";

/// One message the fake accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentRecord {
    pub sid: String,
    pub account_sid: String,
    pub to: String,
    /// `None` when sent through a Messaging Service.
    pub from: Option<String>,
    pub messaging_service_sid: Option<String>,
    pub body: String,
    pub status_callback: Option<String>,
    /// `queued` at first, then the last status sent by
    /// [`FakeTwilio::send_status_callback`].
    pub status: String,
    /// When the fake accepted it, or what [`FakeTwilio::set_date_created`] set.
    pub date_created: DateTime<Utc>,
    /// When it was handed to the carrier: at once, unless [`FakeTwilio::hold_next`] kept it
    /// queued (`None`) until a status callback moves it on.
    pub date_sent: Option<DateTime<Utc>>,
    /// The send asked for Smart Encoding (`SmartEncoded=true`): its segments are counted
    /// after Twilio's replacements.
    pub smart_encoded: bool,
    /// Its `MediaUrl`s (an MMS), in the order sent.
    pub media_urls: Vec<String>,
}

/// What the fake got when it fetched a `MediaUrl`, as Twilio does (without credentials)
/// once it has taken the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub url: String,
    pub status: u16,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

/// One request to the Messages endpoint, as received (for asserting on the wire format).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub account_sid: String,
    /// The decoded basic-auth user and password, if any.
    pub basic_auth: Option<(String, String)>,
    /// The form fields, in the order received.
    pub form: Vec<(String, String)>,
}

/// One `GET` of the message list, as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRequest {
    pub account_sid: String,
    pub basic_auth: Option<(String, String)>,
    /// The query string exactly as sent (still percent-encoded).
    pub raw_query: String,
    /// The decoded query parameters, in the order received.
    pub query: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
struct Rejection {
    status: u16,
    code: u32,
    message: String,
}

#[derive(Default)]
struct Inner {
    accounts: HashMap<String, String>,
    failures: VecDeque<(u16, Option<u32>)>,
    rejections: HashMap<String, Rejection>,
    sent: Vec<SentRecord>,
    requests: Vec<RecordedRequest>,
    lists: Vec<ListRequest>,
    lost_answers: usize,
    held: usize,
    redacted: bool,
    lag: chrono::TimeDelta,
    /// Media of inbound MMS by SID: (account, message SID, content type, bytes).
    media: HashMap<String, (String, String, String, Vec<u8>)>,
    /// What each outbound MMS's `MediaUrl`s answered, by message SID.
    fetched: HashMap<String, Vec<Fetched>>,
    /// How long each send waits before it is answered: a slow Twilio.
    delay: std::time::Duration,
    /// Counts sends without keeping them ([`FakeTwilio::keep_counts_only`]): how many.
    counted_only: Option<usize>,
    /// The SIDs of the messages deleted (`DELETE …/Messages/{sid}.json`), in order.
    deleted: Vec<String>,
}

type Shared = Arc<Mutex<Inner>>;

fn lock(shared: &Shared) -> MutexGuard<'_, Inner> {
    shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A fake Twilio REST API on `127.0.0.1`, stopped when dropped.
pub struct FakeTwilio {
    url: String,
    shared: Shared,
    http: reqwest::Client,
    server: JoinHandle<()>,
}

impl Drop for FakeTwilio {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeTwilio {
    /// Starts the fake on an ephemeral port of 127.0.0.1. It knows no account yet: see
    /// [`account`](Self::account).
    pub async fn start() -> FakeTwilio {
        let shared: Shared = Arc::default();
        let app = Router::new()
            .route(
                "/2010-04-01/Accounts/{account_sid}/Messages.json",
                post(create_message).get(list_messages),
            )
            .route(
                "/2010-04-01/Accounts/{account_sid}/Messages/{message_sid}",
                axum::routing::delete(delete_message),
            )
            .route(
                "/2010-04-01/Accounts/{account_sid}/Messages/{message_sid}/Media.json",
                axum::routing::get(list_media),
            )
            .route(
                "/2010-04-01/Accounts/{account_sid}/Messages/{message_sid}/Media/{media}",
                axum::routing::get(get_media).delete(delete_media),
            )
            .fallback(not_found)
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake Twilio to 127.0.0.1:0");
        let addr = listener
            .local_addr()
            .expect("local address of the fake Twilio");
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("the fake Twilio server failed");
        });
        FakeTwilio {
            url: format!("http://{addr}"),
            shared,
            http: reqwest::Client::new(),
            server,
        }
    }

    /// The API base to give `TwilioClient::new` (`http://127.0.0.1:PORT`, no trailing `/`).
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Registers an account: requests authenticated with other credentials get Twilio's
    /// 401 (code 20003).
    pub fn account(&self, sid: &str, auth_token: &str) {
        lock(&self.shared)
            .accounts
            .insert(sid.to_owned(), auth_token.to_owned());
    }

    /// The next `n` requests to the Messages endpoint (sends and lists alike) fail with
    /// `status` (and Twilio error `code`, if given) before anything else is checked; a
    /// 429 carries `Retry-After: 0`. Nothing is sent.
    pub fn fail_next(&self, n: usize, status: u16, code: Option<u32>) {
        let mut inner = lock(&self.shared);
        for _ in 0..n {
            inner.failures.push_back((status, code));
        }
    }

    /// The SIDs of the messages deleted, in order.
    pub fn deleted(&self) -> Vec<String> {
        lock(&self.shared).deleted.clone()
    }

    /// Makes every send wait this long before Twilio answers it.
    pub fn slow(&self, delay: std::time::Duration) {
        lock(&self.shared).delay = delay;
    }

    /// The next `n` sends that would succeed are accepted (they appear in
    /// [`sent`](Self::sent) and in the list) but answered with a 500, as when Twilio
    /// creates the message and the answer is lost on the way back.
    pub fn lose_next_answers(&self, n: usize) {
        lock(&self.shared).lost_answers += n;
    }

    /// Moves message `sid` to `at`, as if it had been created (and, if it was sent, sent)
    /// then, for lists that reach back in time.
    ///
    /// Panics if the message is unknown.
    pub fn set_date_created(&self, sid: &str, at: DateTime<Utc>) {
        let mut inner = lock(&self.shared);
        let record = inner
            .sent
            .iter_mut()
            .find(|m| m.sid == sid)
            .unwrap_or_else(|| panic!("the fake Twilio has no message {sid}"));
        record.date_created = at;
        record.date_sent = record.date_sent.map(|_| at);
    }

    /// The next `n` messages accepted stay in Twilio's queue, with no `date_sent`, until
    /// a status callback says `sending` or later.
    pub fn hold_next(&self, n: usize) {
        lock(&self.shared).held += n;
    }

    /// Message `sid` leaves Twilio's queue for the carrier now (it gets its `date_sent`).
    ///
    /// Panics if the message is unknown.
    pub fn hand_to_carrier(&self, sid: &str) {
        let mut inner = lock(&self.shared);
        let record = inner
            .sent
            .iter_mut()
            .find(|m| m.sid == sid)
            .unwrap_or_else(|| panic!("the fake Twilio has no message {sid}"));
        record.date_sent = Some(Utc::now());
        record.status = "sent".to_owned();
    }

    /// Lists show every body empty, as with Message Redaction or a `discard` retention.
    pub fn redact_bodies(&self) {
        lock(&self.shared).redacted = true;
    }

    /// A message appears in lists only `lag` after it was created, as a real list lags
    /// behind its writes.
    pub fn lag_lists(&self, lag: std::time::Duration) {
        lock(&self.shared).lag = chrono::TimeDelta::from_std(lag).expect("a short lag");
    }

    /// Every `GET` of the message list so far, failed ones included.
    pub fn list_requests(&self) -> Vec<ListRequest> {
        lock(&self.shared).lists.clone()
    }

    /// Every authenticated, valid send to `to` fails with this Twilio error (for example
    /// 400 / 21610 for a number that replied STOP).
    pub fn reject_number(&self, to: &str, status: u16, code: u32, message: &str) {
        lock(&self.shared).rejections.insert(
            to.to_owned(),
            Rejection {
                status,
                code,
                message: message.to_owned(),
            },
        );
    }

    /// The messages accepted so far, oldest first.
    pub fn sent(&self) -> Vec<SentRecord> {
        lock(&self.shared).sent.clone()
    }

    /// Every request to the Messages endpoint so far, failed ones included.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared).requests.clone()
    }

    /// How many requests reached the Messages endpoint, failed ones included.
    pub fn requests_count(&self) -> usize {
        let inner = lock(&self.shared);
        inner.requests.len() + inner.counted_only.unwrap_or(0)
    }

    /// From now on, counts each send (in [`FakeTwilio::requests_count`]) and keeps nothing
    /// of it: for a benchmark whose memory figure must be casewire's, not the fake's (which
    /// keeps a kilobyte or two a text). Its list and status callbacks then know no text.
    pub fn keep_counts_only(&self) {
        lock(&self.shared).counted_only.get_or_insert(0);
    }

    /// POSTs a status callback for message `sid` to its `StatusCallback`, with the form
    /// Twilio sends (`ErrorCode` for `failed` and `undelivered`, 30008 when not given),
    /// signed with the account's auth token. Returns the HTTP status received.
    ///
    /// Panics if the message is unknown or was sent without a `StatusCallback`.
    pub async fn send_status_callback(
        &self,
        sid: &str,
        status: &str,
        error_code: Option<u32>,
    ) -> u16 {
        let (record, token) = {
            let mut inner = lock(&self.shared);
            let record = inner
                .sent
                .iter_mut()
                .find(|m| m.sid == sid)
                .unwrap_or_else(|| panic!("the fake Twilio has no message {sid}"));
            record.status = status.to_owned();
            if status != "queued" && status != "accepted" && record.date_sent.is_none() {
                record.date_sent = Some(Utc::now());
            }
            let record = record.clone();
            let token = inner
                .accounts
                .get(&record.account_sid)
                .cloned()
                .expect("a sent message's account is registered");
            (record, token)
        };
        let url = record
            .status_callback
            .clone()
            .unwrap_or_else(|| panic!("message {sid} was sent without a StatusCallback"));
        let from = record
            .from
            .clone()
            .unwrap_or_else(|| MESSAGING_SERVICE_NUMBER.to_owned());
        let mut params = vec![
            pair("MessageSid", &record.sid),
            pair("SmsSid", &record.sid),
            pair("MessageStatus", status),
            pair("SmsStatus", status),
            pair("AccountSid", &record.account_sid),
            pair("From", &from),
            pair("To", &record.to),
            pair("ApiVersion", API_VERSION),
        ];
        if let Some(mg) = &record.messaging_service_sid {
            params.push(pair("MessagingServiceSid", mg));
        }
        let failed = matches!(status, "failed" | "undelivered");
        if failed || error_code.is_some() {
            params.push(pair("ErrorCode", &error_code.unwrap_or(30008).to_string()));
        }
        self.post_signed(&token, &url, &params).await.0
    }

    /// POSTs an inbound-message webhook to `url` as Twilio does when `from` texts `to`
    /// (with `OptOutType` when given, as Twilio adds for STOP/START/HELP keywords with
    /// Advanced Opt-Out), signed with `account_sid`'s auth token. Returns the HTTP status
    /// and the response body (TwiML, usually).
    ///
    /// Panics if the account is not registered.
    pub async fn send_inbound(
        &self,
        url: &str,
        account_sid: &str,
        from: &str,
        to: &str,
        body: &str,
        opt_out_type: Option<&str>,
    ) -> (u16, String) {
        self.send_inbound_with_media(url, account_sid, from, to, body, opt_out_type, &[])
            .await
    }

    /// An inbound MMS: like [`send_inbound`](Self::send_inbound), with each `(content
    /// type, bytes)` kept by the fake as a Media resource of the message (`MM…`), listed as
    /// `NumMedia`, `MediaUrl{n}` and `MediaContentType{n}` as Twilio sends them, readable
    /// (with the account's credentials) and deletable until deleted ([`media_left`]).
    ///
    /// [`media_left`]: Self::media_left
    #[allow(clippy::too_many_arguments)]
    pub async fn send_inbound_with_media(
        &self,
        url: &str,
        account_sid: &str,
        from: &str,
        to: &str,
        body: &str,
        opt_out_type: Option<&str>,
        media: &[(&str, &[u8])],
    ) -> (u16, String) {
        let token = lock(&self.shared)
            .accounts
            .get(account_sid)
            .cloned()
            .unwrap_or_else(|| panic!("account {account_sid} is not registered in the fake"));
        let sid = new_sid(if media.is_empty() { "SM" } else { "MM" });
        let segments = casewire_sms::segments::count_as(body, false)
            .segments
            .to_string();
        let mut params = vec![
            pair("MessageSid", &sid),
            pair("SmsMessageSid", &sid),
            pair("SmsSid", &sid),
            pair("AccountSid", account_sid),
            pair("From", from),
            pair("To", to),
            pair("Body", body),
            pair("NumMedia", &media.len().to_string()),
            pair("NumSegments", &segments),
            pair("SmsStatus", "received"),
            pair("ApiVersion", API_VERSION),
        ];
        for (name, number) in [("FromCountry", from), ("ToCountry", to)] {
            if number.starts_with("+1") {
                params.push(pair(name, "US"));
            }
        }
        if let Some(kind) = opt_out_type {
            params.push(pair("OptOutType", kind));
        }
        for (i, (content_type, bytes)) in media.iter().enumerate() {
            let media_sid = new_sid("ME");
            params.push(pair(
                &format!("MediaUrl{i}"),
                &format!(
                    "{}/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}/Media/{media_sid}",
                    self.url
                ),
            ));
            params.push(pair(&format!("MediaContentType{i}"), content_type));
            lock(&self.shared).media.insert(
                media_sid,
                (
                    account_sid.to_owned(),
                    sid.clone(),
                    (*content_type).to_owned(),
                    bytes.to_vec(),
                ),
            );
        }
        self.post_signed(&token, url, &params).await
    }

    /// How many media of inbound MMS the fake still holds (not deleted).
    pub fn media_left(&self) -> usize {
        lock(&self.shared).media.len()
    }

    /// What an outbound MMS's `MediaUrl`s answered the fake's fetch, once it fetched them.
    pub fn fetched(&self, sid: &str) -> Option<Vec<Fetched>> {
        lock(&self.shared).fetched.get(sid).cloned()
    }

    async fn post_signed(
        &self,
        token: &str,
        url: &str,
        params: &[(String, String)],
    ) -> (u16, String) {
        let signature = signature::sign(token, url, params);
        let response = self
            .http
            .post(url)
            .header(signature::HEADER, signature)
            .header(header::USER_AGENT, "TwilioProxy/1.1")
            .header(
                "I-Twilio-Idempotency-Token",
                uuid::Uuid::new_v4().to_string(),
            )
            .form(params)
            .send()
            .await
            .unwrap_or_else(|e| panic!("the fake Twilio could not POST its webhook: {e}"));
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        (status, text)
    }
}

fn pair(name: &str, value: &str) -> (String, String) {
    (name.to_owned(), value.to_owned())
}

fn new_sid(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

/// Twilio's error body.
fn twilio_error(status: u16, code: Option<u32>, message: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = json!({
        "code": code,
        "message": message,
        "more_info": code.map(|c| format!("https://www.twilio.com/docs/errors/{c}")),
        "status": status.as_u16(),
    });
    let mut response = (status, axum::Json(body)).into_response();
    if status == StatusCode::TOO_MANY_REQUESTS {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("0"));
    }
    response
}

/// Twilio's 404.
fn missing() -> Response {
    twilio_error(404, Some(20404), "The requested resource was not found")
}

async fn not_found() -> Response {
    missing()
}

fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(B64.decode(encoded.trim()).ok()?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

fn is_e164(number: &str) -> bool {
    number.starts_with('+') && casewire_sms::phone::normalize(number).as_deref() == Ok(number)
}

async fn create_message(
    State(shared): State<Shared>,
    Path(account_sid): Path<String>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let auth = basic_auth(&headers);
    let delay = lock(&shared).delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let mut inner = lock(&shared);
    match &mut inner.counted_only {
        Some(counted) => *counted += 1,
        None => inner.requests.push(RecordedRequest {
            account_sid: account_sid.clone(),
            basic_auth: auth.clone(),
            form: form.clone(),
        }),
    }

    if let Some(refused) = refusal(&mut inner, auth.as_ref(), &account_sid) {
        return refused;
    }

    let field = |name: &str| {
        form.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let Some(to) = field("To") else {
        return twilio_error(400, Some(21604), "A 'To' phone number is required.");
    };
    let Some(body) = field("Body") else {
        return twilio_error(400, Some(21602), "Message body is required.");
    };
    let from = field("From");
    let messaging_service_sid = field("MessagingServiceSid");
    if from.is_none() && messaging_service_sid.is_none() {
        return twilio_error(400, Some(21603), "A 'From' phone number is required.");
    }
    if !is_e164(&to) {
        return twilio_error(
            400,
            Some(21211),
            &format!("Invalid 'To' Phone Number: {to}"),
        );
    }
    if let Some(rejection) = inner.rejections.get(&to) {
        return twilio_error(rejection.status, Some(rejection.code), &rejection.message);
    }
    if body.chars().count() > casewire_sms::segments::MAX_BODY_CHARS {
        return twilio_error(
            400,
            Some(21617),
            "The concatenated message body exceeds the 1600 character limit.",
        );
    }

    // Through a Messaging Service Twilio answers `accepted` (it has not picked a sender
    // yet) and `num_segments` "0" (Twilio's Messages API reference, "Send an SMS with a
    // Messaging Service").
    let status = match messaging_service_sid {
        Some(_) => "accepted".to_owned(),
        None => "queued".to_owned(),
    };
    let record = SentRecord {
        sid: new_sid("SM"),
        account_sid,
        to,
        from,
        messaging_service_sid,
        body,
        status_callback: field("StatusCallback"),
        status,
        date_created: Utc::now(),
        date_sent: None,
        smart_encoded: field("SmartEncoded").is_some_and(|v| v.eq_ignore_ascii_case("true")),
        media_urls: form
            .iter()
            .filter(|(n, _)| n == "MediaUrl")
            .map(|(_, v)| v.clone())
            .collect(),
    };
    if !record.media_urls.is_empty() {
        tokio::spawn(fetch_media(
            shared.clone(),
            record.sid.clone(),
            record.media_urls.clone(),
        ));
    }
    // Its answer describes the message at creation, before the carrier has it.
    let response = message_resource(&record, false);
    let record = match inner.held {
        0 => SentRecord {
            date_sent: Some(record.date_created),
            ..record
        },
        _ => {
            inner.held -= 1;
            record
        }
    };
    if inner.counted_only.is_none() {
        inner.sent.push(record);
    }
    if inner.lost_answers > 0 {
        inner.lost_answers -= 1;
        return twilio_error(500, Some(20500), "Internal Server Error");
    }
    (StatusCode::CREATED, axum::Json(response)).into_response()
}

/// Fetches a message's media as Twilio does once it has taken the message: a plain `GET`
/// of each `MediaUrl`, no credentials.
async fn fetch_media(shared: Shared, sid: String, urls: Vec<String>) {
    let http = reqwest::Client::new();
    let mut fetched = Vec::new();
    for url in urls {
        let got = match http.get(&url).send().await {
            Ok(answer) => {
                let status = answer.status().as_u16();
                let content_type = answer
                    .headers()
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                let bytes = answer.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
                Fetched {
                    url,
                    status,
                    content_type,
                    bytes,
                }
            }
            Err(_) => Fetched {
                url,
                status: 0,
                content_type: None,
                bytes: Vec::new(),
            },
        };
        fetched.push(got);
    }
    let mut inner = lock(&shared);
    // Twilio keeps a copy of what it fetched, as the message's Media, until deleted.
    let account = inner
        .sent
        .iter()
        .find(|r| r.sid == sid)
        .map(|r| r.account_sid.clone());
    for f in fetched.iter().filter(|f| f.status == 200) {
        let content_type = f.content_type.clone().unwrap_or_default();
        let held = (
            account.clone().unwrap_or_default(),
            sid.clone(),
            content_type,
            f.bytes.clone(),
        );
        inner.media.insert(new_sid("ME"), held);
    }
    inner.fetched.insert(sid, fetched);
}

/// `GET …/Messages/{sid}/Media.json`: the media Twilio holds for a message, one page.
async fn list_media(
    State(shared): State<Shared>,
    Path((account_sid, message_sid)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut inner = lock(&shared);
    if let Some(refused) = refusal(&mut inner, basic_auth(&headers).as_ref(), &account_sid) {
        return refused;
    }
    let base = format!("/{API_VERSION}/Accounts/{account_sid}/Messages/{message_sid}/Media");
    let media_list: Vec<Value> = inner
        .media
        .iter()
        .filter(|(_, (account, message, ..))| *account == account_sid && *message == message_sid)
        .map(|(sid, (_, _, content_type, _))| {
            json!({
                "account_sid": account_sid,
                "content_type": content_type,
                "parent_sid": message_sid,
                "sid": sid,
                "uri": format!("{base}/{sid}.json"),
            })
        })
        .collect();
    axum::Json(json!({
        "media_list": media_list,
        "page": 0,
        "page_size": DEFAULT_PAGE_SIZE,
        "first_page_uri": format!("{base}.json?PageSize={DEFAULT_PAGE_SIZE}&Page=0"),
        "next_page_uri": null,
        "previous_page_uri": null,
        "uri": format!("{base}.json?PageSize={DEFAULT_PAGE_SIZE}&Page=0"),
    }))
    .into_response()
}

/// The answer to a request the fake refuses: a scripted failure, then Twilio's
/// authentication (the account must be known, the password its auth token, and the path
/// its own).
fn refusal(
    inner: &mut Inner,
    auth: Option<&(String, String)>,
    account_sid: &str,
) -> Option<Response> {
    if let Some((status, code)) = inner.failures.pop_front() {
        let message = StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Error");
        return Some(twilio_error(status, code, message));
    }
    let authenticated = auth.is_some_and(|(user, password)| {
        inner
            .accounts
            .get(user)
            .is_some_and(|token| token == password)
    });
    if !authenticated {
        return Some(twilio_error(401, Some(20003), "Authenticate"));
    }
    if auth.is_some_and(|(user, _)| user != account_sid) {
        return Some(twilio_error(
            404,
            Some(20404),
            "The requested resource was not found",
        ));
    }
    None
}

/// Twilio's date format, RFC 2822 (`Wed, 18 Aug 2021 20:01:11 +0000`).
fn rfc2822(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S %z").to_string()
}

/// A Message resource in Twilio's JSON, as its create and list answers carry it; its body
/// empty when `redacted`.
fn message_resource(record: &SentRecord, redacted: bool) -> Value {
    let SentRecord {
        sid, account_sid, ..
    } = record;
    let created = rfc2822(record.date_created);
    json!({
        "account_sid": account_sid,
        "api_version": API_VERSION,
        "body": if redacted { "" } else { record.body.as_str() },
        "date_created": created,
        "date_sent": record.date_sent.map(rfc2822),
        "date_updated": created,
        "direction": "outbound-api",
        "error_code": null,
        "error_message": null,
        "from": record.from,
        "messaging_service_sid": record.messaging_service_sid,
        "num_media": record.media_urls.len().to_string(),
        "num_segments": match record.status.as_str() {
            "accepted" => "0".to_owned(),
            _ => casewire_sms::segments::count_as(&record.body, record.smart_encoded)
                .segments
                .to_string(),
        },
        "price": null,
        "price_unit": "USD",
        "sid": sid,
        "status": record.status,
        "subresource_uris": { "media": format!("/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}/Media.json") },
        "to": record.to,
        "uri": format!("/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}.json"),
    })
}

/// Media `media` of message `message_sid` of account `account_sid`, as the fake holds it.
fn held_media<'a>(
    inner: &'a Inner,
    account_sid: &str,
    message_sid: &str,
    media: &str,
) -> Option<&'a (String, String, String, Vec<u8>)> {
    inner
        .media
        .get(media)
        .filter(|(account, message, ..)| account == account_sid && message == message_sid)
}

/// `GET …/Messages/{sid}/Media/{ME…}`: the content, as Twilio answers a Media resource
/// without `.json` (with the account's credentials).
async fn get_media(
    State(shared): State<Shared>,
    Path((account_sid, message_sid, media)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut inner = lock(&shared);
    if let Some(refused) = refusal(&mut inner, basic_auth(&headers).as_ref(), &account_sid) {
        return refused;
    }
    match held_media(&inner, &account_sid, &message_sid, &media) {
        Some((.., content_type, bytes)) => (
            [(header::CONTENT_TYPE, content_type.clone())],
            bytes.clone(),
        )
            .into_response(),
        None => missing(),
    }
}

/// `DELETE …/Messages/{sid}.json`: 204, and the message is gone from the account (from
/// [`FakeTwilio::sent`] and the list); 404 for one the account does not have. Twilio has
/// no copy of an inbound text the fake did not see: 404 too, as for one deleted before.
async fn delete_message(
    State(shared): State<Shared>,
    Path((account_sid, message_sid)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut inner = lock(&shared);
    if let Some(refused) = refusal(&mut inner, basic_auth(&headers).as_ref(), &account_sid) {
        return refused;
    }
    let Some(sid) = message_sid.strip_suffix(".json") else {
        return missing();
    };
    let before = inner.sent.len();
    inner
        .sent
        .retain(|m| !(m.sid == sid && m.account_sid == account_sid));
    if inner.sent.len() == before {
        return missing();
    }
    inner.deleted.push(sid.to_string());
    StatusCode::NO_CONTENT.into_response()
}

/// `DELETE …/Messages/{sid}/Media/{ME…}.json`: 204, and it is gone.
async fn delete_media(
    State(shared): State<Shared>,
    Path((account_sid, message_sid, media)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut inner = lock(&shared);
    if let Some(refused) = refusal(&mut inner, basic_auth(&headers).as_ref(), &account_sid) {
        return refused;
    }
    let media = media.trim_end_matches(".json");
    if held_media(&inner, &account_sid, &message_sid, media).is_none() {
        return missing();
    }
    inner.media.remove(media);
    StatusCode::NO_CONTENT.into_response()
}

/// A `DateSent` filter's value.
enum Bound {
    Day(NaiveDate),
    Instant(DateTime<Utc>),
}

impl Bound {
    /// How a message sent at `sent` stands to the bound.
    fn compare(&self, sent: DateTime<Utc>) -> std::cmp::Ordering {
        match self {
            Bound::Day(day) => sent.date_naive().cmp(day),
            Bound::Instant(at) => sent.cmp(at),
        }
    }
}

/// `GET …/Messages.json`: the account's messages by `date_sent`, most recent first and
/// those not sent yet last, filtered by `To`, `From` and `DateSent` (a UTC day or a
/// date-time; `DateSent>`/`DateSent<` for on-or-after and on-or-before it; a message with
/// no `date_sent` never matches), `PageSize` at a time with Twilio's `Page`/`PageToken`
/// paging.
async fn list_messages(
    State(shared): State<Shared>,
    Path(account_sid): Path<String>,
    headers: HeaderMap,
    RawQuery(raw_query): RawQuery,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let auth = basic_auth(&headers);
    let mut inner = lock(&shared);
    inner.lists.push(ListRequest {
        account_sid: account_sid.clone(),
        basic_auth: auth.clone(),
        raw_query: raw_query.unwrap_or_default(),
        query: query.clone(),
    });
    if let Some(refused) = refusal(&mut inner, auth.as_ref(), &account_sid) {
        return refused;
    }

    let param = |name: &str| {
        query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    // A date compares by day, a date-time to the second.
    let mut bounds: Vec<(&str, Bound)> = Vec::new();
    for key in ["DateSent", "DateSent>", "DateSent<"] {
        if let Some(value) = param(key) {
            let bound = if let Ok(day) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
                Bound::Day(day)
            } else if let Ok(at) = DateTime::parse_from_rfc3339(value) {
                Bound::Instant(at.with_timezone(&Utc))
            } else {
                return twilio_error(
                    400,
                    Some(20001),
                    &format!("Invalid {key}: {value} is not a date (YYYY-MM-DD) or a date-time (YYYY-MM-DDThh:mm:ssZ)"),
                );
            };
            bounds.push((key, bound));
        }
    }
    let page_size = match param("PageSize").map(str::parse::<usize>) {
        None => DEFAULT_PAGE_SIZE,
        Some(Ok(n)) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
        Some(_) => return twilio_error(400, Some(20001), "Invalid PageSize"),
    };
    let page = match param("Page").map(str::parse::<usize>) {
        None => 0,
        Some(Ok(n)) => n,
        Some(_) => return twilio_error(400, Some(20001), "Invalid Page"),
    };

    let mut matching: Vec<&SentRecord> = inner
        .sent
        .iter()
        .filter(|m| m.account_sid == account_sid)
        .filter(|m| param("To").is_none_or(|to| m.to == to))
        .filter(|m| param("From").is_none_or(|from| m.from.as_deref() == Some(from)))
        .filter(|m| m.date_created + inner.lag <= Utc::now())
        .filter(|m| {
            bounds.iter().all(|(key, bound)| {
                let Some(sent) = m.date_sent else {
                    return false;
                };
                let order = bound.compare(sent);
                match *key {
                    "DateSent>" => order.is_ge(),
                    "DateSent<" => order.is_le(),
                    _ => order.is_eq(),
                }
            })
        })
        .collect();
    // Sent, most recent first (among equal times, the later accepted first); then those
    // not sent yet.
    matching.reverse();
    matching.sort_by_key(|m| (m.date_sent.is_none(), std::cmp::Reverse(m.date_sent)));

    let start = page.saturating_mul(page_size).min(matching.len());
    let end = start.saturating_add(page_size).min(matching.len());
    let messages: Vec<Value> = matching[start..end]
        .iter()
        .map(|m| message_resource(m, inner.redacted))
        .collect();

    // Page links repeat the filters, as Twilio's do.
    let link = |page: usize, token: Option<&str>| {
        let mut url = reqwest::Url::parse("http://fake/").expect("a static URL parses");
        url.set_path(&format!(
            "/{API_VERSION}/Accounts/{account_sid}/Messages.json"
        ));
        {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in &query {
                if !matches!(name.as_str(), "Page" | "PageSize" | "PageToken") {
                    pairs.append_pair(name, value);
                }
            }
            pairs.append_pair("PageSize", &page_size.to_string());
            pairs.append_pair("Page", &page.to_string());
            if let Some(token) = token {
                pairs.append_pair("PageToken", token);
            }
        }
        format!("{}?{}", url.path(), url.query().unwrap_or_default())
    };
    let next_page_uri = (end < matching.len()).then(|| {
        let last = &matching[end - 1].sid;
        link(page + 1, Some(&format!("PA{last}")))
    });
    let previous_page_uri = (page > 0).then(|| link(page - 1, None));
    let body = json!({
        "end": end.saturating_sub(1),
        "first_page_uri": link(0, None),
        "messages": messages,
        "next_page_uri": next_page_uri,
        "page": page,
        "page_size": page_size,
        "previous_page_uri": previous_page_uri,
        "start": start,
        "uri": link(page, param("PageToken")),
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}
