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
    (status = 400, description = "no X-Twilio-Signature, or a form without MessageSid, From or Body"),
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
    // Recorded once per provider id, then routed.
    let inbound = Receive {
        provider_sid: required(&params, "MessageSid")?.to_string(),
        from: required(&params, "From")?.to_string(),
        to: param(&params, "To").unwrap_or_default().to_string(),
        body: param(&params, "Body").unwrap_or_default().to_string(),
        opt_out_type: param(&params, "OptOutType").map(str::to_string),
    };
    gw.ask_as(twilio_metadata(&headers), &tenant, inbound)
        .await?;
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
