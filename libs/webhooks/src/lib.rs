//! The Standard Webhooks signing scheme (<https://www.standardwebhooks.com>), which signs
//! casewire's outbound webhooks to a CMS.
//!
//! A webhook is a `POST` whose three headers authenticate its body:
//!
//! - `webhook-id`: the event's id, the same on every retry (the receiver's idempotency key);
//! - `webhook-timestamp`: when this attempt was made, in Unix seconds (new on every retry);
//! - `webhook-signature`: `v1,<base64 HMAC-SHA256>` over `{id}.{timestamp}.{body}`, keyed
//!   with the endpoint's secret; several space-separated signatures while a secret is being
//!   rotated.
//!
//! The secret is shown to the CMS as `whsec_` followed by the base64 of the key bytes, the
//! form every Standard Webhooks (and Svix) library accepts, so a CMS vendor can verify our
//! webhooks with an off-the-shelf library instead of code of their own.
//!
//! The signature itself is computed by the specification's own crate (`standardwebhooks`);
//! this module holds what casewire adds around it: secrets generated, read and shown
//! without ever appearing in a log, the headers of an attempt, and a [`verify`] that takes
//! the current time, so the replay window is testable and the caller decides which clock
//! counts (the crate's reads the system clock).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rand::RngCore;
use subtle::ConstantTimeEq;

/// The event id header.
pub const HEADER_ID: &str = "webhook-id";
/// The attempt's Unix timestamp header.
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// The space-separated signatures header.
pub const HEADER_SIGNATURE: &str = "webhook-signature";
/// The replay window the reference libraries use: five minutes either way.
pub const DEFAULT_TOLERANCE_SECS: u64 = 5 * 60;

const PREFIX: &str = "whsec_";
const VERSION: &str = "v1";
/// The specification asks for at least 192 bits; 512 is its maximum.
const MIN_KEY_LEN: usize = 24;
const MAX_KEY_LEN: usize = 64;
const GENERATED_KEY_LEN: usize = 32;

/// Why a secret could not be read or a webhook did not verify.
///
/// No variant carries the secret or any part of it: errors end up in logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("not a webhook secret: {0}; expected whsec_ followed by base64 of 24 to 64 bytes")]
    InvalidSecret(&'static str),
    #[error("the request has no {0} header")]
    MissingHeader(&'static str),
    #[error("the {0} header is malformed")]
    InvalidHeader(&'static str),
    #[error(
        "the webhook-timestamp is {age_secs} seconds old, more than the {tolerance_secs} \
         seconds allowed (a replay, or a clock that is off)"
    )]
    TimestampTooOld { age_secs: i128, tolerance_secs: u64 },
    #[error(
        "the webhook-timestamp is {ahead_secs} seconds in the future, more than the \
         {tolerance_secs} seconds allowed (a clock that is off)"
    )]
    TimestampInFuture {
        ahead_secs: i128,
        tolerance_secs: u64,
    },
    #[error("no v1 signature in the webhook-signature header matches this request")]
    BadSignature,
    /// The specification's crate signs text: a body must be UTF-8 (JSON always is).
    #[error("the body is not UTF-8")]
    BodyNotUtf8,
}

/// An endpoint's signing secret. Its `Debug` never shows it.
#[derive(Clone)]
pub struct Secret {
    key: Vec<u8>,
    text: String,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Secret {
    /// A new random secret of 32 bytes from the operating system's generator.
    pub fn generate() -> Secret {
        let mut key = vec![0u8; GENERATED_KEY_LEN];
        rand::rngs::OsRng.fill_bytes(&mut key);
        Secret::from_key(key)
    }

    /// Reads a secret as `whsec_<base64>`, or the bare base64 as some dashboards show it.
    /// Surrounding whitespace, as left by copy and paste, is ignored.
    pub fn parse(text: &str) -> Result<Secret, WebhookError> {
        let text = text.trim();
        let encoded = text.strip_prefix(PREFIX).unwrap_or(text);
        if encoded.is_empty() {
            return Err(WebhookError::InvalidSecret("it is empty"));
        }
        let key = B64
            .decode(encoded)
            .map_err(|_| WebhookError::InvalidSecret("it is not standard base64"))?;
        if key.len() < MIN_KEY_LEN {
            return Err(WebhookError::InvalidSecret("it is shorter than 24 bytes"));
        }
        if key.len() > MAX_KEY_LEN {
            return Err(WebhookError::InvalidSecret("it is longer than 64 bytes"));
        }
        Ok(Secret::from_key(key))
    }

    fn from_key(key: Vec<u8>) -> Secret {
        let text = format!("{PREFIX}{}", B64.encode(&key));
        Secret { key, text }
    }

    /// The `whsec_…` form to show the CMS (once) and to store encrypted.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    fn signer(&self) -> standardwebhooks::Webhook {
        standardwebhooks::Webhook::from_bytes(self.key.clone())
            .expect("any key of 24 to 64 bytes signs")
    }
}

/// The `webhook-signature` value for one attempt: `v1,<base64 HMAC-SHA256>`.
///
/// `msg_id` must not contain a `.`: the signed content is `.`-delimited, so an id with a
/// dot could be shifted into the timestamp and make two different attempts sign alike.
pub fn sign(
    secret: &Secret,
    msg_id: &str,
    timestamp_secs: i64,
    body: &[u8],
) -> Result<String, WebhookError> {
    debug_assert!(!msg_id.contains('.'), "a webhook id must not contain '.'");
    secret
        .signer()
        .sign(msg_id, timestamp_secs, body)
        .map_err(|_| WebhookError::BodyNotUtf8)
}

/// The three headers of one attempt, ready to put on the request.
pub fn headers(
    secret: &Secret,
    msg_id: &str,
    timestamp_secs: i64,
    body: &[u8],
) -> Result<[(&'static str, String); 3], WebhookError> {
    Ok([
        (HEADER_ID, msg_id.to_owned()),
        (HEADER_TIMESTAMP, timestamp_secs.to_string()),
        (
            HEADER_SIGNATURE,
            sign(secret, msg_id, timestamp_secs, body)?,
        ),
    ])
}

/// Checks a received webhook's headers against its raw body (the exact bytes received:
/// re-serialized JSON does not verify).
///
/// `now_secs` is the receiver's clock in Unix seconds; the timestamp may differ from it
/// by at most `tolerance_secs` either way ([`DEFAULT_TOLERANCE_SECS`] is the usual).
pub fn verify(
    secret: &Secret,
    headers: &http::HeaderMap,
    body: &[u8],
    now_secs: i64,
    tolerance_secs: u64,
) -> Result<(), WebhookError> {
    let header = |name: &'static str| {
        headers
            .get(name)
            .ok_or(WebhookError::MissingHeader(name))?
            .to_str()
            .map_err(|_| WebhookError::InvalidHeader(name))
    };
    verify_parts(
        secret,
        header(HEADER_ID)?,
        header(HEADER_TIMESTAMP)?,
        header(HEADER_SIGNATURE)?,
        body,
        now_secs,
        tolerance_secs,
    )
}

/// [`verify`] for callers that hold the three header values rather than an
/// `http::HeaderMap`.
pub fn verify_parts(
    secret: &Secret,
    msg_id: &str,
    timestamp: &str,
    signatures: &str,
    body: &[u8],
    now_secs: i64,
    tolerance_secs: u64,
) -> Result<(), WebhookError> {
    let ts: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| WebhookError::InvalidHeader(HEADER_TIMESTAMP))?;
    // i128: the difference of two arbitrary i64 timestamps does not fit an i64.
    let age = i128::from(now_secs) - i128::from(ts);
    let tolerance = i128::from(tolerance_secs);
    if age > tolerance {
        return Err(WebhookError::TimestampTooOld {
            age_secs: age,
            tolerance_secs,
        });
    }
    if -age > tolerance {
        return Err(WebhookError::TimestampInFuture {
            ahead_secs: -age,
            tolerance_secs,
        });
    }

    // Signed over the integer as the sender formats it, as the reference libraries do,
    // not over the header's text.
    let expected = sign(secret, msg_id, ts, body)?;
    let expected = B64
        .decode(expected.trim_start_matches(VERSION).trim_start_matches(','))
        .expect("the crate signs in base64");
    let mut matched = false;
    for entry in signatures.split_ascii_whitespace() {
        // Other schemes (v1a, asymmetric) may sit alongside during a migration.
        let Some((VERSION, encoded)) = entry.split_once(',') else {
            continue;
        };
        let Ok(candidate) = B64.decode(encoded) else {
            continue;
        };
        // Not short-circuited, so the time taken does not tell which entry matched.
        matched |= bool::from(candidate.as_slice().ct_eq(&expected));
    }
    if matched {
        Ok(())
    } else {
        Err(WebhookError::BadSignature)
    }
}
