//! The sandbox provider of `casewire dev`: texts are captured here instead of sent, and a
//! client's reply is simulated through the same path as Twilio's inbound webhook.

use axum::extract::State;
use axum::http::StatusCode;
use casewire_contract::messaging::{MessageView, Receive};
use casewire_tenancy::SmsProvider;
use serde::Deserialize;

use crate::extract::Json;
use crate::routes::cases::TEXTING;
use crate::{ApiError, Auth, Gateway};

async fn require_sandbox(gw: &Gateway, tenant: &str) -> Result<(), ApiError> {
    match gw.sms_settings(tenant).await?.map(|s| s.provider) {
        Some(SmsProvider::Sandbox) => Ok(()),
        None if gw.sandbox_by_default() => Ok(()),
        _ => Err(ApiError::conflict(
            "this tenant texts through Twilio: the sandbox is off",
        )),
    }
}

/// The texts the sandbox captured, oldest first.
#[utoipa::path(get, path = "/v1/sandbox/messages", tag = "sandbox", security(("api_key" = [])), responses(
    (status = 200, body = [MessageView]),
    (status = 409, description = "the tenant texts through Twilio"),
))]
pub(crate) async fn messages(
    State(gw): State<Gateway>,
    auth: Auth,
) -> Result<axum::Json<Vec<MessageView>>, ApiError> {
    let tenant = auth.own_tenant(TEXTING)?;
    auth.whole_tenant("the sandbox")?;
    require_sandbox(&gw, tenant).await?;
    casewire_messaging::messages::sandbox(gw.store(), tenant)
        .await
        .map(axum::Json)
        .map_err(ApiError::internal)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SimulatedReply {
    /// The client's number.
    #[schema(min_length = 1, max_length = 32)]
    from: String,
    #[schema(min_length = 1, max_length = 1600)]
    body: String,
}

/// Simulates a client's text, as if Twilio had delivered it.
#[utoipa::path(post, path = "/v1/sandbox/inbound", tag = "sandbox", security(("api_key" = [])), request_body = SimulatedReply, responses(
    (status = 201, body = MessageView),
    (status = 409, description = "the tenant texts through Twilio"),
    (status = 422, description = "not a phone number, or a body over 1600 characters"),
))]
pub(crate) async fn inbound(
    State(gw): State<Gateway>,
    auth: Auth,
    Json(reply): Json<SimulatedReply>,
) -> Result<(StatusCode, axum::Json<MessageView>), ApiError> {
    let tenant = auth.own_tenant(TEXTING)?.to_string();
    auth.whole_tenant("the sandbox")?;
    require_sandbox(&gw, &tenant).await?;
    casewire_sms::segments::validate_body(&reply.body)
        .map_err(|e| ApiError::unprocessable(format!("body: {e}")))?;
    let sid = format!("SM{}", uuid::Uuid::new_v4().simple());
    let inbound = Receive {
        provider_sid: sid,
        from: reply.from,
        to: "sandbox".to_string(),
        body: reply.body,
        opt_out_type: None,
        media: Vec::new(),
    };
    let view = gw.ask(&auth, &tenant, inbound).await?;
    Ok((StatusCode::CREATED, axum::Json(view)))
}
