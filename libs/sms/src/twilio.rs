//! The Twilio Messages API client: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`.
//!
//! # Retries and sending twice
//!
//! Twilio's Messages API has **no idempotency key**: every accepted `POST` is a new
//! message, billed and delivered. So a retry is only safe when Twilio certainly did not
//! accept the first request:
//!
//! - **429 Too Many Requests**: Twilio refused the request before creating a message;
//! - **connect errors** (connection refused, DNS failure, TLS handshake failure): the
//!   request never reached Twilio.
//!
//! [`TwilioClient::send`] retries exactly those, under a [`RetryPolicy`] (exponential
//! backoff with full jitter, honouring `Retry-After` on 429). It does **not** retry:
//!
//! - **5xx**: Twilio may have created the message before failing (or a proxy in front
//!   of it failed after forwarding it);
//! - **timeouts and other network errors after the request was written**: the request
//!   may have been accepted and only the answer lost.
//!
//! Those come back as [`SendError`]s with `retryable: true`: retrying may succeed, but
//! may also text the client twice. The caller (the messaging service) decides whether
//! and when to retry. [`TwilioClient::find_sent`] settles the doubt: it looks the text up
//! in Twilio's message list, so the caller resends only when Twilio has no such message
//! (the same applies after a crash between sending and recording Twilio's answer).
//! [`TwilioClient::send_once`] makes exactly one request, with no retry at all.
//!
//! # Confidentiality
//!
//! Neither the auth token nor the message body ever appears in an error, a `Debug`
//! output or a tracing event of this module. Twilio's own error message
//! ([`SendError::message`]) can quote the phone number; [`SendError`]'s `Display` uses
//! [`SendError::reason`], which for the common codes is our own text without it.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use rand::Rng;
use serde_json::Value;

/// Twilio's production API.
pub const DEFAULT_API_BASE: &str = "https://api.twilio.com";
/// The Messages API version in every path.
pub const API_VERSION: &str = "2010-04-01";

/// How far before `since` [`TwilioClient::find_sent`] still counts a message as ours:
/// Twilio's clock and ours may disagree by this much.
const CLOCK_SKEW_SECS: i64 = 5 * 60;
/// The page size [`TwilioClient::find_sent`] asks for.
const LIST_PAGE_SIZE: usize = 100;
/// How many pages [`TwilioClient::find_sent`] reads before it gives up undecided: a
/// thousand texts handed to carriers for one number since one attempt.
const LIST_MAX_PAGES: usize = 10;
/// The longest `ValidityPeriod` Twilio takes, and its default: ten hours.
pub const MAX_VALIDITY_SECS: u32 = 36_000;

/// What Twilio is told about a text besides its sender, recipient and body.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivery<'a> {
    /// `StatusCallback`: where Twilio reports the text's statuses.
    pub status_callback: Option<&'a str>,
    /// `ValidityPeriod`: how long, in seconds (1 to 36000), Twilio may keep the text in
    /// its queue before it drops it instead of sending it late.
    pub valid_for: Option<u32>,
    /// `Attempt`: which try this is, for Twilio's own records.
    pub attempt: Option<u32>,
    /// `MediaUrl`, once per item: where Twilio fetches what it sends with the text (an
    /// MMS), without credentials.
    pub media_urls: &'a [String],
}

/// What Twilio's message list says about a text whose send outcome was lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// Twilio has a text to this number, created since the attempt, with this body: ours.
    Found(Sent),
    /// Twilio has texts to this number created since the attempt whose bodies it does not
    /// show (redacted, or a `discard` retention): ours may be one of them. Their SIDs,
    /// for staff to look at.
    Indistinct(Vec<String>),
    /// Twilio has handed no such text to a carrier. It may still be in Twilio's queue: a
    /// queued text has no `date_sent` and the list says nothing about where it sorts, so
    /// only the end of the text's `ValidityPeriod` makes this final.
    NotSent,
}

/// A tenant's Twilio account: the Account SID (`AC…`) and its auth token.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub account_sid: String,
    pub auth_token: String,
}

impl Credentials {
    pub fn new(account_sid: impl Into<String>, auth_token: impl Into<String>) -> Self {
        Self {
            account_sid: account_sid.into(),
            auth_token: auth_token.into(),
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"<redacted>")
            .finish()
    }
}

/// Who the text comes from: one of the tenant's numbers (`From`), or a Messaging
/// Service (`MessagingServiceSid`, `MG…`) that picks the number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    From(String),
    MessagingService(String),
}

/// What Twilio answered when it accepted a message (201 Created).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The message SID (`SM…`), the key of later status callbacks.
    pub sid: String,
    /// Usually `queued` (or `accepted` with a Messaging Service).
    pub status: String,
    /// Twilio's segment count (a string in its JSON), when it gave one.
    pub num_segments: Option<u32>,
    /// Twilio's `price`, usually null at creation.
    pub price: Option<String>,
    /// Twilio's `error_code`, usually null at creation.
    pub error_code: Option<u32>,
    /// Twilio's `error_message`, usually null at creation.
    pub error_message: Option<String>,
}

/// What went wrong, as far as it matters for retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Twilio answered with an error status (4xx other than 429): final.
    Rejected,
    /// 429: Twilio did not accept the message; safe to retry later.
    RateLimited,
    /// 5xx: Twilio may or may not have accepted the message.
    ServerError,
    /// Could not connect: the message certainly did not reach Twilio.
    Connect,
    /// Timed out after connecting: Twilio may have accepted the message.
    Timeout,
    /// Another transport error after connecting: Twilio may have accepted the message.
    Network,
    /// A 2xx answer we could not read: Twilio probably accepted the message. Also a
    /// [`TwilioClient::find_sent`] lookup that could not conclude (an unreadable list, or
    /// more pages than it reads): Twilio may have accepted it.
    InvalidResponse,
    /// The request could not even be built (for example a malformed Account SID).
    InvalidRequest,
}

/// A failed send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    /// The HTTP status Twilio answered, or 0 when there was no answer.
    pub http_status: u16,
    /// Twilio's error code (`21211`, `21610`, …), when its body had one.
    pub code: Option<u32>,
    /// Twilio's message verbatim (may quote the phone number), or ours when Twilio
    /// gave none. Never contains the auth token or the body.
    pub message: String,
    /// Whether trying again may succeed. See the module docs: for
    /// [`FailureKind::ServerError`], [`FailureKind::Timeout`] and
    /// [`FailureKind::Network`] a retry may also send the text twice.
    pub retryable: bool,
    pub kind: FailureKind,
    /// The `Retry-After` of a 429, when Twilio sent one in seconds.
    pub retry_after: Option<Duration>,
}

impl SendError {
    /// A clear reason for a person, for Twilio's common codes; else Twilio's message.
    pub fn reason(&self) -> String {
        let known = self.code.and_then(crate::codes::explain);
        match known {
            Some(text) => text.to_owned(),
            None if self.message.is_empty() => match self.http_status {
                0 => "Twilio could not be reached".to_owned(),
                s => format!("Twilio answered HTTP {s}"),
            },
            None => self.message.clone(),
        }
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Twilio send failed")?;
        if self.http_status != 0 {
            write!(f, " (HTTP {}", self.http_status)?;
            if let Some(code) = self.code {
                write!(f, ", code {code}")?;
            }
            write!(f, ")")?;
        }
        write!(f, ": {}", self.reason())
    }
}

impl std::error::Error for SendError {}

/// How [`TwilioClient::send`] retries the failures that are safe to retry (429 and
/// connect errors): at most `max_attempts` requests in all, waiting a random time in
/// `0..=min(cap, base * 2^(retry - 1))` between them ("full jitter"), or a 429's
/// `Retry-After` capped at `cap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base: Duration,
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base: Duration::from_millis(200),
            cap: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// One request, no retry.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The wait before retry number `retry` (1 for the first retry).
    fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(after) = retry_after {
            return after.min(self.cap);
        }
        let factor = 2u32.saturating_pow(retry.saturating_sub(1));
        let ceiling = self.base.saturating_mul(factor).min(self.cap);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rand::thread_rng().gen_range(0..=nanos))
    }
}

/// The Twilio REST client. Cheap to clone; share one per process.
#[derive(Debug, Clone)]
pub struct TwilioClient {
    http: reqwest::Client,
    base: String,
    retry: RetryPolicy,
}

impl TwilioClient {
    /// A client for the API at `base` (`DEFAULT_API_BASE` in production; the fake's URL
    /// in tests, from `CASEWIRE_TWILIO_API_BASE`), with the default [`RetryPolicy`],
    /// a 10 s connect timeout and a 30 s request timeout.
    pub fn new(base: &str) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        Self::with_http(http, base)
    }

    /// A client over an existing `reqwest::Client` (its timeouts apply).
    pub fn with_http(http: reqwest::Client, base: &str) -> Self {
        Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            retry: RetryPolicy::default(),
        }
    }

    /// The same client with another retry policy.
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }

    /// Sends a text, retrying only what is certainly safe to retry (429 and connect
    /// errors; see the module docs) under the client's [`RetryPolicy`]. Returns the last
    /// error when attempts run out, and 5xx and timeouts at once, as `retryable: true`
    /// errors, because retrying them may send the text twice.
    pub async fn send(
        &self,
        creds: &Credentials,
        sender: &Sender,
        to: &str,
        body: &str,
        delivery: &Delivery<'_>,
    ) -> Result<Sent, SendError> {
        let safe =
            |err: &SendError| matches!(err.kind, FailureKind::RateLimited | FailureKind::Connect);
        self.retrying(creds, "Twilio did not accept the message", safe, || {
            self.send_once(creds, sender, to, body, delivery)
        })
        .await
    }

    /// Makes exactly one `POST …/Messages.json`, with no retry.
    pub async fn send_once(
        &self,
        creds: &Credentials,
        sender: &Sender,
        to: &str,
        body: &str,
        delivery: &Delivery<'_>,
    ) -> Result<Sent, SendError> {
        let url = self.messages_url(creds)?;
        let mut form: Vec<(&str, String)> = vec![("To", to.into())];
        match sender {
            Sender::From(from) => form.push(("From", from.clone())),
            Sender::MessagingService(mg) => form.push(("MessagingServiceSid", mg.clone())),
        }
        form.push(("Body", body.into()));
        // Said every time, so what Twilio bills never depends on a Messaging Service
        // setting casewire cannot see: casewire's estimate counts the text as Twilio sends
        // it smart-encoded (crate::smart).
        form.push(("SmartEncoded", "true".into()));
        if let Some(callback) = delivery.status_callback {
            form.push(("StatusCallback", callback.into()));
        }
        if let Some(secs) = delivery.valid_for {
            form.push((
                "ValidityPeriod",
                secs.clamp(1, MAX_VALIDITY_SECS).to_string(),
            ));
        }
        if let Some(attempt) = delivery.attempt {
            form.push(("Attempt", attempt.to_string()));
        }
        for url in delivery.media_urls {
            form.push(("MediaUrl", url.clone()));
        }

        let (status, bytes) = self
            .exchange(creds, self.http.post(&url).form(&form))
            .await?;
        read_json(&bytes)
            .as_ref()
            .and_then(parse_sent)
            .ok_or_else(|| SendError {
                http_status: status,
                code: None,
                message: format!(
                    "Twilio answered HTTP {status} but its body could not be read; the \
                     message was probably accepted, do not resend it blindly"
                ),
                retryable: false,
                kind: FailureKind::InvalidResponse,
                retry_after: None,
            })
    }

    /// Looks up whether Twilio has handed to a carrier a text to `to` with this `body`,
    /// created no earlier than `since` (less five minutes of clock skew): the way to
    /// settle a [`send`](Self::send) whose outcome was lost (5xx, timeout, or a crash
    /// before its answer was recorded). Pass as `since` the time just before the attempt.
    ///
    /// It asks only what Twilio documents: the list filtered by `To` and by
    /// `DateSent>=` the cutoff (date-time form), every page of it (following
    /// `next_page_uri`, at most ten pages of 100), and compares bodies only where Twilio
    /// shows one. It does not rely on the list's order (documented as by `DateSent`,
    /// newest first, with nothing said of texts not sent yet), nor on a body being there.
    /// See [`Lookup`] for what each answer means; a list longer than it reads is an error
    /// ([`FailureKind::InvalidResponse`]). Any error means unknown; the lookup only reads,
    /// so repeating it is always safe, and transient errors are retried under the
    /// client's [`RetryPolicy`].
    pub async fn find_sent(
        &self,
        creds: &Credentials,
        to: &str,
        body: &str,
        since: DateTime<Utc>,
    ) -> Result<Lookup, SendError> {
        let first = self.messages_url(creds)?;
        let cutoff = since - TimeDelta::seconds(CLOCK_SKEW_SECS);
        let page_size = LIST_PAGE_SIZE.to_string();
        let sent_after = cutoff.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let mut url = reqwest::Url::parse_with_params(
            &first,
            [
                ("To", to),
                ("DateSent>", sent_after.as_str()),
                ("PageSize", &page_size),
            ],
        )
        .map_err(|_| {
            local_error(
                FailureKind::InvalidRequest,
                "the Twilio API base is not a valid URL",
            )
        })?;
        // `next_page_uri` is a path on the same API; anything else would take the
        // account's credentials elsewhere.
        let own_pages = format!(
            "/{API_VERSION}/Accounts/{}/Messages.json?",
            creds.account_sid
        );
        let mut indistinct = Vec::new();
        for _ in 0..LIST_MAX_PAGES {
            let (status, bytes) = self
                .retrying(
                    creds,
                    "Twilio's message list could not be read",
                    |e| e.retryable,
                    || self.exchange(creds, self.http.get(url.clone())),
                )
                .await?;
            let unreadable = |what: &str| SendError {
                http_status: status,
                code: None,
                message: format!(
                    "Twilio's message list could not be read ({what}); whether the message \
                     was accepted is unknown"
                ),
                retryable: false,
                kind: FailureKind::InvalidResponse,
                retry_after: None,
            };
            let page = read_json(&bytes).ok_or_else(|| unreadable("not JSON"))?;
            let messages = page
                .get("messages")
                .and_then(Value::as_array)
                .ok_or_else(|| unreadable("no messages array"))?;
            for message in messages {
                let created = message
                    .get("date_created")
                    .and_then(Value::as_str)
                    .and_then(|d| DateTime::parse_from_rfc2822(d).ok())
                    .ok_or_else(|| unreadable("a message has no readable date_created"))?;
                // Sent since the cutoff but created before it: an older text, not ours.
                if created < cutoff {
                    continue;
                }
                match message.get("body").and_then(Value::as_str) {
                    Some(shown) if shown == body => {
                        return parse_sent(message)
                            .map(Lookup::Found)
                            .ok_or_else(|| unreadable("a message with this body has no sid"));
                    }
                    Some(shown) if !shown.is_empty() => {}
                    _ => indistinct.push(
                        message
                            .get("sid")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                    ),
                }
            }
            match page.get("next_page_uri") {
                None | Some(Value::Null) => {
                    return Ok(match indistinct.is_empty() {
                        true => Lookup::NotSent,
                        false => Lookup::Indistinct(indistinct),
                    })
                }
                Some(Value::String(next)) if next.starts_with(&own_pages) => {
                    url = reqwest::Url::parse(&format!("{}{next}", self.base))
                        .map_err(|_| unreadable("next_page_uri is not a valid path"))?;
                }
                Some(_) => return Err(unreadable("next_page_uri is not a page of this list")),
            }
        }
        Err(SendError {
            http_status: 0,
            code: None,
            message: format!(
                "Twilio lists more than {} texts sent to this number since the attempt; \
                 whether the message was accepted is unknown",
                LIST_MAX_PAGES * LIST_PAGE_SIZE
            ),
            retryable: false,
            kind: FailureKind::InvalidResponse,
            retry_after: None,
        })
    }

    /// Runs `attempt` until it succeeds, fails with an error `may_retry` refuses, or the
    /// [`RetryPolicy`] runs out, waiting between attempts.
    async fn retrying<T, F, Fut>(
        &self,
        creds: &Credentials,
        what: &'static str,
        may_retry: impl Fn(&SendError) -> bool,
        mut attempt: F,
    ) -> Result<T, SendError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, SendError>>,
    {
        let max_attempts = self.retry.max_attempts.max(1);
        let mut tried = 1;
        loop {
            let err = match attempt().await {
                Ok(value) => return Ok(value),
                Err(err) => err,
            };
            if !may_retry(&err) || tried >= max_attempts {
                return Err(err);
            }
            let delay = self.retry.delay(tried, err.retry_after);
            tracing::warn!(
                attempt = tried,
                max_attempts,
                http_status = err.http_status,
                code = err.code,
                kind = ?err.kind,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                account_sid = %creds.account_sid,
                "{what}; retrying"
            );
            tokio::time::sleep(delay).await;
            tried += 1;
        }
    }

    /// `…/Accounts/{AccountSid}/Messages.json`, once the SID is known to be safe in a path.
    fn messages_url(&self, creds: &Credentials) -> Result<String, SendError> {
        let sid = &creds.account_sid;
        if sid.is_empty() || !sid.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(local_error(
                FailureKind::InvalidRequest,
                "the Account SID must be letters and digits only (AC followed by 32 hex digits)",
            ));
        }
        Ok(format!(
            "{}/{API_VERSION}/Accounts/{sid}/Messages.json",
            self.base
        ))
    }

    /// A message's Media resource, made from the account, the message and the media SIDs
    /// (never a URL from a webhook, so casewire's credentials go only to Twilio's API).
    fn media_url(
        &self,
        creds: &Credentials,
        message_sid: &str,
        media_sid: &str,
    ) -> Result<String, SendError> {
        Ok(format!(
            "{}/Media/{}",
            self.message_url(creds, message_sid)?,
            sid_like(media_sid)?
        ))
    }

    /// A message resource's URL, without `.json`.
    fn message_url(&self, creds: &Credentials, message_sid: &str) -> Result<String, SendError> {
        let messages = self.messages_url(creds)?;
        let base = messages.trim_end_matches(".json");
        Ok(format!("{base}/{}", sid_like(message_sid)?))
    }

    /// The bytes and type of one picture or file of an inbound MMS (Twilio answers the
    /// Media resource without `.json` with its content, through a redirect reqwest follows,
    /// dropping the credentials on the way to another host). More than `max_bytes` is
    /// refused unread past the limit.
    pub async fn fetch_media(
        &self,
        creds: &Credentials,
        message_sid: &str,
        media_sid: &str,
        max_bytes: u64,
    ) -> Result<(String, Vec<u8>), SendError> {
        let url = self.media_url(creds, message_sid, media_sid)?;
        self.retrying(
            creds,
            "Twilio's media could not be read",
            |e| e.retryable,
            || async {
                let mut response = self
                    .http
                    .get(&url)
                    .basic_auth(&creds.account_sid, Some(&creds.auth_token))
                    .send()
                    .await
                    .map_err(transport_error)?;
                let status = response.status().as_u16();
                if !(200..300).contains(&status) {
                    let bytes = response.bytes().await.map_err(transport_error)?;
                    return Err(twilio_error(status, None, &bytes));
                }
                let content_type = response
                    .headers()
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("application/octet-stream")
                    .to_ascii_lowercase();
                let mut bytes = Vec::new();
                while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
                    bytes.extend_from_slice(&chunk);
                    if bytes.len() as u64 > max_bytes {
                        return Err(SendError {
                            http_status: status,
                            code: None,
                            message: format!("the media is larger than {max_bytes} bytes"),
                            retryable: false,
                            kind: FailureKind::Rejected,
                            retry_after: None,
                        });
                    }
                }
                Ok((content_type, bytes))
            },
        )
        .await
    }

    /// Deletes one picture or file of a message at Twilio, once casewire keeps it: the
    /// client's papers are not left in Twilio's storage. Already gone (404) is done.
    /// The Media SIDs Twilio holds for a message: what an outbound MMS carried, which
    /// Twilio keeps a copy of (`GET …/Messages/{sid}/Media.json`; one page holds them all, as
    /// a message carries at most ten).
    pub async fn list_media(
        &self,
        creds: &Credentials,
        message_sid: &str,
    ) -> Result<Vec<String>, SendError> {
        #[derive(serde::Deserialize)]
        struct Page {
            media_list: Vec<Item>,
        }
        #[derive(serde::Deserialize)]
        struct Item {
            sid: String,
        }
        let url = format!("{}/Media.json", self.message_url(creds, message_sid)?);
        let (_, body) = self
            .retrying(
                creds,
                "Twilio's media could not be listed",
                |e| e.retryable,
                || self.exchange(creds, self.http.get(&url)),
            )
            .await?;
        let page: Page = serde_json::from_slice(&body).map_err(|e| {
            local_error(
                FailureKind::ServerError,
                &format!("Twilio's media list could not be read: {e}"),
            )
        })?;
        Ok(page.media_list.into_iter().map(|m| m.sid).collect())
    }

    pub async fn delete_media(
        &self,
        creds: &Credentials,
        message_sid: &str,
        media_sid: &str,
    ) -> Result<(), SendError> {
        let url = format!("{}.json", self.media_url(creds, message_sid, media_sid)?);
        match self
            .retrying(
                creds,
                "Twilio's media could not be deleted",
                |e| e.retryable,
                || self.exchange(creds, self.http.delete(&url)),
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.http_status == 404 => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Deletes Twilio's copy of a text (`DELETE …/Messages/{sid}.json`, 204): after a
    /// client's erasure. One Twilio no longer has (404) is deleted already. Twilio refuses
    /// a text not yet final (20009): the caller tries again later.
    pub async fn delete_message(
        &self,
        creds: &Credentials,
        message_sid: &str,
    ) -> Result<(), SendError> {
        let url = format!("{}.json", self.message_url(creds, message_sid)?);
        match self
            .retrying(
                creds,
                "Twilio's copy of the text could not be deleted",
                |e| e.retryable,
                || self.exchange(creds, self.http.delete(&url)),
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.http_status == 404 => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Makes one authenticated request and returns a 2xx answer's status and body, or
    /// Twilio's error.
    async fn exchange(
        &self,
        creds: &Credentials,
        request: reqwest::RequestBuilder,
    ) -> Result<(u16, Vec<u8>), SendError> {
        let response = request
            .basic_auth(&creds.account_sid, Some(&creds.auth_token))
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(transport_error)?;

        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let bytes = response.bytes().await.map_err(transport_error)?;
        if (200..300).contains(&status) {
            Ok((status, bytes.to_vec()))
        } else {
            Err(twilio_error(status, retry_after, &bytes))
        }
    }
}

/// Twilio's answer to a request it refused: its error JSON, classified for retrying.
fn twilio_error(status: u16, retry_after: Option<Duration>, bytes: &[u8]) -> SendError {
    let json = read_json(bytes);
    let code = json.as_ref().and_then(|j| j.get("code")).and_then(as_u32);
    let message = json
        .as_ref()
        .and_then(|j| j.get("message"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| format!("Twilio answered HTTP {status}"));
    let (kind, retryable) = match status {
        429 => (FailureKind::RateLimited, true),
        500..=599 => (FailureKind::ServerError, true),
        _ => (FailureKind::Rejected, false),
    };
    SendError {
        http_status: status,
        code,
        message,
        retryable,
        kind,
        retry_after: if status == 429 { retry_after } else { None },
    }
}

fn read_json(bytes: &[u8]) -> Option<Value> {
    serde_json::from_slice(bytes).ok()
}

/// A SID as it may go into a URL path: letters and digits only.
fn sid_like(sid: &str) -> Result<&str, SendError> {
    if sid.is_empty() || !sid.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(local_error(
            FailureKind::InvalidRequest,
            "a message or media SID is letters and digits only",
        ));
    }
    Ok(sid)
}

fn local_error(kind: FailureKind, message: &str) -> SendError {
    SendError {
        http_status: 0,
        code: None,
        message: message.to_owned(),
        retryable: false,
        kind,
        retry_after: None,
    }
}

/// A reqwest error, described without its URL (which is harmless, but keep errors
/// uniform) and never with the request's body or credentials.
fn transport_error(err: reqwest::Error) -> SendError {
    let (kind, what) = if err.is_connect() {
        (
            FailureKind::Connect,
            "could not connect to Twilio; the message was not sent",
        )
    } else if err.is_timeout() {
        (
            FailureKind::Timeout,
            "timed out waiting for Twilio; the message may or may not have been accepted",
        )
    } else {
        (
            FailureKind::Network,
            "the connection to Twilio failed; the message may or may not have been accepted",
        )
    };
    SendError {
        http_status: err.status().map_or(0, |s| s.as_u16()),
        code: None,
        message: what.to_owned(),
        retryable: true,
        kind,
        retry_after: None,
    }
}

/// A Message resource, as Twilio returns it on creation and in its list.
fn parse_sent(json: &Value) -> Option<Sent> {
    let sid = json.get("sid")?.as_str()?.to_owned();
    let text = |name: &str| {
        json.get(name).and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    Some(Sent {
        sid,
        status: text("status").unwrap_or_default(),
        num_segments: json.get("num_segments").and_then(as_u32),
        price: text("price"),
        error_code: json.get("error_code").and_then(as_u32),
        error_message: text("error_message"),
    })
}

/// A number Twilio sends either as a JSON number or as a string of digits.
fn as_u32(value: &Value) -> Option<u32> {
    match value {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_debug_hides_the_token() {
        let creds = Credentials::new("AC123", "supersecret");
        let shown = format!("{creds:?}");
        assert!(shown.contains("AC123"));
        assert!(!shown.contains("supersecret"));
    }

    #[test]
    fn parses_twilios_created_message() {
        let body = br#"{"sid":"SMabc","status":"queued","num_segments":"2","price":null,
            "error_code":null,"error_message":null}"#;
        let sent = read_json(body).as_ref().and_then(parse_sent).unwrap();
        assert_eq!(sent.sid, "SMabc");
        assert_eq!(sent.status, "queued");
        assert_eq!(sent.num_segments, Some(2));
        assert_eq!(sent.price, None);
        assert_eq!(sent.error_code, None);
    }

    #[test]
    fn full_jitter_stays_under_the_exponential_ceiling_and_the_cap() {
        let policy = RetryPolicy {
            max_attempts: 10,
            base: Duration::from_millis(100),
            cap: Duration::from_millis(350),
        };
        for _ in 0..200 {
            assert!(policy.delay(1, None) <= Duration::from_millis(100));
            assert!(policy.delay(2, None) <= Duration::from_millis(200));
            assert!(policy.delay(3, None) <= Duration::from_millis(350));
            assert!(policy.delay(40, None) <= Duration::from_millis(350));
        }
        assert_eq!(
            policy.delay(1, Some(Duration::from_secs(60))),
            Duration::from_millis(350)
        );
        assert_eq!(policy.delay(1, Some(Duration::ZERO)), Duration::ZERO);
    }

    #[test]
    fn reasons_are_clear_and_fall_back_to_twilios_message() {
        let err = |code, message: &str| SendError {
            http_status: 400,
            code,
            message: message.to_owned(),
            retryable: false,
            kind: FailureKind::Rejected,
            retry_after: None,
        };
        assert!(err(Some(21610), "x").reason().contains("STOP"));
        assert!(err(Some(21211), "Invalid 'To' Phone Number: +1555")
            .reason()
            .contains("not a valid phone number"));
        assert!(!err(Some(21211), "Invalid 'To' Phone Number: +1555")
            .to_string()
            .contains("+1555"));
        assert_eq!(err(Some(30000), "Something odd").reason(), "Something odd");
    }
}
