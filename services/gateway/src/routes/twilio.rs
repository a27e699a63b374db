//! Twilio's webhooks, one pair per tenant. Each request is checked against the tenant's
//! auth token over the public URL (ARCHITECTURE.md, Tenancy and security).

use axum::extract::{RawForm, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use casewire_contract::messaging::{Receive, ReportStatus};
use casewire_events::{Actor, Metadata};
use casewire_sms::SmsError;
use casewire_tenancy::SmsProvider;

use crate::extract::Path;
use crate::{ApiError, Gateway};

/// An empty TwiML answer: casewire replies to clients itself, not through TwiML.
const EMPTY_TWIML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>";

/// The form of a signed request, or why it is refused: 404 when the tenant has no Twilio
/// account, 400 without a signature, 403 with a wrong one.
async fn verified(
    gw: &Gateway,
    tenant: &str,
    uri: &Uri,
    headers: &HeaderMap,
    form: &[u8],
) -> Result<Vec<(String, String)>, ApiError> {
    let settings = gw.sms_settings(tenant).await?;
    let Some(SmsProvider::Twilio { auth_token, .. }) = settings.map(|s| s.provider) else {
        return Err(ApiError::not_found("this tenant has no Twilio account"));
    };
    let base = gw.public_url().ok_or_else(|| {
        ApiError::internal("CASEWIRE_PUBLIC_URL is not set: Twilio's signatures cannot be checked")
    })?;
    let url = format!(
        "{base}{}",
        uri.path_and_query()
            .map(|p| p.as_str())
            .unwrap_or(uri.path())
    );
    let params: Vec<(String, String)> = form_urlencoded::parse(form).into_owned().collect();
    let signature = headers
        .get(casewire_sms::signature::HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let token = auth_token.value().map(String::as_str).unwrap_or_default();
    match casewire_sms::signature::verify(token, &url, &params, signature) {
        Ok(()) => Ok(params),
        Err(SmsError::MissingSignature) => Err(ApiError::bad_request("missing X-Twilio-Signature")),
        Err(_) => {
            tracing::warn!(
                tenant,
                path = uri.path(),
                "a Twilio webhook with a wrong signature was refused"
            );
            Err(ApiError::forbidden(
                "X-Twilio-Signature does not match this request",
            ))
        }
    }
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn required<'a>(params: &'a [(String, String)], name: &str) -> Result<&'a str, ApiError> {
    param(params, name)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::bad_request(format!("the form has no {name}")))
}

/// A client's text as Twilio sends it, or what Twilio would never send: its own limits
/// (a message SID is `SM` or `MM` and 32 hex digits; a body at most 1,600 characters;
/// numbers and channel addresses short), and no NUL anywhere.
fn as_inbound(params: &[(String, String)]) -> Result<Receive, String> {
    if params
        .iter()
        .any(|(k, v)| k.contains('\0') || v.contains('\0'))
    {
        return Err("the form holds a NUL character".into());
    }
    let present = |name: &str| {
        param(params, name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("the form has no {name}"))
    };
    let sid = present("MessageSid")?;
    // By bytes: slicing the text at 2 would panic inside a multi-byte character.
    let hex = sid.len() == 34 && sid.bytes().skip(2).all(|b| b.is_ascii_hexdigit());
    if !(hex && (sid.starts_with("SM") || sid.starts_with("MM"))) {
        return Err("MessageSid is not a Twilio message SID (SM or MM and 32 hex digits)".into());
    }
    let address = |name: &str, value: &str| match value.chars().count() {
        0..=64 => Ok(value.to_string()),
        n => Err(format!(
            "{name} is {n} characters; a number or channel address is at most 64"
        )),
    };
    let from = address("From", present("From")?)?;
    let to = address("To", param(params, "To").unwrap_or_default())?;
    let body = param(params, "Body").unwrap_or_default();
    let characters = body.chars().count();
    if characters > 1600 {
        return Err(format!(
            "Body is {characters} characters; Twilio delivers at most 1,600"
        ));
    }
    let media = media(params, sid)?;
    let opt_out_type = param(params, "OptOutType").filter(|t| !t.is_empty());
    if let Some(t) = opt_out_type.filter(|t| !["STOP", "START", "HELP"].contains(t)) {
        return Err(format!(
            "OptOutType {t:?} is none of Twilio's (STOP, START, HELP)"
        ));
    }
    Ok(Receive {
        provider_sid: sid.to_string(),
        from,
        to,
        body: body.to_string(),
        opt_out_type: opt_out_type.map(str::to_string),
        media,
    })
}

/// Twilio's most media in one message.
const MAX_MEDIA: usize = 10;

/// The pictures and files of an MMS: `NumMedia`, and for each `MediaUrl{n}` (a Media
/// resource of this message at Twilio, whose SID is kept: the URL is never fetched as
/// given) and `MediaContentType{n}`.
fn media(
    params: &[(String, String)],
    message_sid: &str,
) -> Result<Vec<casewire_events::message::Media>, String> {
    let count = match param(params, "NumMedia").filter(|n| !n.is_empty()) {
        None => 0,
        Some(n) => n
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= MAX_MEDIA)
            .ok_or_else(|| format!("NumMedia {n:?} is not 0 to {MAX_MEDIA}"))?,
    };
    (0..count)
        .map(|i| {
            let url = param(params, &format!("MediaUrl{i}"))
                .ok_or_else(|| format!("NumMedia is {count} and there is no MediaUrl{i}"))?;
            let sid = url
                .strip_suffix('/')
                .unwrap_or(url)
                .rsplit_once(&format!("/Messages/{message_sid}/Media/"))
                .map(|(_, sid)| sid)
                .filter(|sid| {
                    sid.len() == 34
                        && sid.starts_with("ME")
                        && sid.bytes().skip(2).all(|b| b.is_ascii_hexdigit())
                })
                .ok_or_else(|| {
                    format!("MediaUrl{i} is not a Media resource of this message at Twilio")
                })?;
            let content_type = param(params, &format!("MediaContentType{i}"))
                .filter(|t| t.len() <= 100 && t.contains('/') && !t.contains(char::is_whitespace))
                .ok_or_else(|| format!("MediaContentType{i} is not a media type"))?;
            Ok(casewire_events::message::Media {
                sid: sid.to_string(),
                content_type: content_type.to_ascii_lowercase(),
            })
        })
        .collect()
}

fn twilio_metadata(headers: &HeaderMap) -> Metadata {
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    Metadata {
        request_id: request_id.clone(),
        correlation_id: request_id,
        ..Metadata::new(Actor::Twilio)
    }
}

/// A client's text (Twilio's "A message comes in" webhook).
#[utoipa::path(post, path = "/webhooks/twilio/{tenant_id}/inbound", tag = "twilio", request_body(content_type = "application/x-www-form-urlencoded", description = "Twilio's inbound message parameters"), responses(
    (status = 200, description = "empty TwiML"),
    (status = 400, description = "no X-Twilio-Signature, or a signed form Twilio would never send (a malformed MessageSid, a body over 1,600 characters, a NUL): recorded as a refused webhook"),
    (status = 403, description = "a wrong X-Twilio-Signature"),
    (status = 404, description = "no such tenant, or it has no Twilio account"),
))]
pub(crate) async fn inbound(
    State(gw): State<Gateway>,
    Path(tenant): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    RawForm(form): RawForm,
) -> Result<Response, ApiError> {
    let params = verified(&gw, &tenant, &uri, &headers, &form).await?;
    let metadata = twilio_metadata(&headers);
    // Signed, but not what Twilio sends: kept in the trail with why, and never passed on.
    let inbound = match as_inbound(&params) {
        Ok(inbound) => inbound,
        Err(reason) => {
            gw.refuse_webhook(metadata, &tenant, "twilio.inbound", &reason)
                .await?;
            return Err(ApiError::bad_request(reason));
        }
    };
    // Recorded once per provider id, then routed.
    gw.ask_as(metadata, &tenant, inbound).await?;
    Ok((StatusCode::OK, [("content-type", "text/xml")], EMPTY_TWIML).into_response())
}

/// A status callback of an outbound text (its StatusCallback names the message).
#[utoipa::path(post, path = "/webhooks/twilio/{tenant_id}/status", tag = "twilio", request_body(content_type = "application/x-www-form-urlencoded", description = "Twilio's status callback parameters"), params(
    ("message_id" = String, Query, description = "casewire's message id, set in the StatusCallback URL"),
), responses(
    (status = 204, description = "recorded, or nothing to record"),
    (status = 400, description = "no X-Twilio-Signature, or a form without MessageStatus"),
    (status = 403, description = "a wrong X-Twilio-Signature"),
))]
pub(crate) async fn status(
    State(gw): State<Gateway>,
    Path(tenant): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    RawForm(form): RawForm,
) -> Result<StatusCode, ApiError> {
    let params = verified(&gw, &tenant, &uri, &headers, &form).await?;
    let message_id = uri
        .query()
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect::<Vec<_>>()
        })
        .and_then(|q| param(&q, "message_id").map(str::to_string))
        .ok_or_else(|| ApiError::bad_request("the callback URL has no message_id"))?;
    let report = ReportStatus {
        message_id: message_id.clone(),
        status: required(&params, "MessageStatus")?.to_string(),
        error_code: param(&params, "ErrorCode")
            .filter(|c| !c.is_empty())
            .map(str::to_string),
        provider_sid: param(&params, "MessageSid").map(str::to_string),
    };
    match gw.ask_as(twilio_metadata(&headers), &tenant, report).await {
        Ok(_) => Ok(StatusCode::NO_CONTENT),
        // Twilio cannot fix these by retrying: note them and let it stop.
        Err(e)
            if e.status() == StatusCode::NOT_FOUND
                || e.status() == StatusCode::UNPROCESSABLE_ENTITY =>
        {
            tracing::warn!(tenant, message_id = %message_id, error = %e.message(), "a Twilio status callback was not recorded");
            Ok(StatusCode::NO_CONTENT)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::as_inbound;

    fn form(sid: &str) -> Vec<(String, String)> {
        [
            ("MessageSid", sid),
            ("From", "+13125550100"),
            ("Body", "hi"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn a_message_sid_is_twilios_form_in_any_bytes_sent() {
        assert!(as_inbound(&form("SM0123456789abcdef0123456789abcdef")).is_ok());
        assert!(as_inbound(&form("MM0123456789ABCDEF0123456789abcdef")).is_ok());
        // 34 bytes with a two-byte character across byte 2: refused, not a panic.
        let err = as_inbound(&form("Sé123456789abcdef0123456789abcdef")).unwrap_err();
        assert!(err.contains("MessageSid"), "{err}");
        assert!(as_inbound(&form("../../etc")).is_err());
    }
}
