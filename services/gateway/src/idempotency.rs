//! `Idempotency-Key` on every POST: a retry with the same key gets the first answer again
//! (with `Idempotent-Replayed: true`) and nothing is done twice.
//!
//! Keys belong to the credential that sent them. The first answer is kept, sealed (it may
//! hold a secret shown once), for 24 hours. While the first request runs, a retry gets 409;
//! a request that failed with a 5xx keeps no answer, so its retry runs afresh. The same key
//! with a different request is a 422.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use casewire_events::Sealed;
use serde_json::Value;

use crate::{ApiError, Caller, Gateway};

const HEADER: &str = "idempotency-key";
const MAX_BODY: usize = 1 << 20;
/// How long an answer is kept.
const KEEP_HOURS: i64 = 24;
/// When a key whose request has no answer is free again: no request runs past
/// [`crate::REQUEST_TIMEOUT`], so one still unanswered after it (and a margin for clocks
/// between gateways) died with its gateway. Its retry is safe to run: a text's id comes
/// from the key, so the service answers the text the first one queued. (Five minutes, as
/// before, left a CMS's retries after a gateway crash refused for that long.)
const STALE: std::time::Duration =
    std::time::Duration::from_secs(crate::REQUEST_TIMEOUT.as_secs() + 10);

pub(crate) async fn layer(State(gw): State<Gateway>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST || !request.headers().contains_key(HEADER) {
        return next.run(request).await;
    }
    match replay_or_run(&gw, request, next).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn replay_or_run(gw: &Gateway, request: Request, next: Next) -> Result<Response, ApiError> {
    let key = request.headers()[HEADER]
        .to_str()
        .ok()
        .filter(|k| (1..=255).contains(&k.len()) && k.chars().all(|c| c.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::bad_request("Idempotency-Key must be 1 to 255 visible ASCII characters")
        })?
        .to_string();
    let Some(token) = crate::auth::bearer(request.headers()).map(str::to_string) else {
        // Without a credential there is no one to keep the key for: the handler answers 401.
        return Ok(next.run(request).await);
    };
    let caller = gw.authenticate(&token).await?;
    let tenant = match &caller {
        Caller::Member { tenant_id, .. } => tenant_id.clone(),
        Caller::Operator => "operator".to_string(),
    };
    let scope = casewire_crypto::hash_secret(&token);

    let (mut parts, body) = request.into_parts();
    // The handler's `Auth` takes the caller from here instead of looking it up again.
    parts.extensions.insert(caller);
    let bytes = to_bytes(body, MAX_BODY).await.map_err(|_| {
        ApiError::with_status(StatusCode::PAYLOAD_TOO_LARGE, "the body is over 1 MiB")
    })?;
    let fingerprint = casewire_crypto::hash_secret(&format!(
        "{} {}\n{}",
        parts.method,
        parts.uri.path(),
        String::from_utf8_lossy(&bytes)
    ));

    let db = gw.store().db().writer();
    let now = casewire_events::utc_now();
    sqlx::query("DELETE FROM gateway_idempotency WHERE scope = $1 AND created_at < $2")
        .bind(&scope)
        .bind(casewire_events::timestamp(
            now - chrono::Duration::hours(KEEP_HOURS),
        ))
        .execute(db)
        .await?;
    let claimed = sqlx::query(
        "INSERT INTO gateway_idempotency (scope, key, request_hash, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (scope, key) DO NOTHING",
    )
    .bind(&scope)
    .bind(&key)
    .bind(&fingerprint)
    .bind(casewire_events::timestamp(now))
    .execute(db)
    .await?
    .rows_affected()
        == 1;
    if !claimed {
        let (hash, status, stored, created_at): (String, Option<i64>, Option<String>, String) =
            sqlx::query_as("SELECT request_hash, status, response, created_at FROM gateway_idempotency WHERE scope = $1 AND key = $2")
                .bind(&scope)
                .bind(&key)
                .fetch_one(db)
                .await?;
        if hash != fingerprint {
            return Err(ApiError::unprocessable(
                "this Idempotency-Key was already used for a different request",
            ));
        }
        match (status, stored) {
            (Some(status), Some(stored)) => return replay(gw, &tenant, status, &stored).await,
            _ => {
                let stale = casewire_events::timestamp(
                    now - chrono::Duration::from_std(STALE).expect("a short duration"),
                );
                // A request that died mid-way frees its key after a while.
                let taken = created_at < stale
                    && sqlx::query("UPDATE gateway_idempotency SET created_at = $1 WHERE scope = $2 AND key = $3 AND created_at = $4 AND status IS NULL")
                        .bind(casewire_events::timestamp(now))
                        .bind(&scope)
                        .bind(&key)
                        .bind(&created_at)
                        .execute(db)
                        .await?
                        .rows_affected()
                        == 1;
                if !taken {
                    return Err(ApiError::conflict(
                        "a request with this Idempotency-Key is still running; retry in a moment",
                    ));
                }
            }
        }
    }

    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let (mut parts, body) = response.into_parts();
    let bytes = to_bytes(body, usize::MAX)
        .await
        .map_err(ApiError::internal)?;
    if parts.status.is_server_error() {
        sqlx::query("DELETE FROM gateway_idempotency WHERE scope = $1 AND key = $2")
            .bind(&scope)
            .bind(&key)
            .execute(db)
            .await?;
    } else {
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let mut sealed =
            serde_json::to_value(Sealed::new("idempotency", body)).map_err(ApiError::internal)?;
        gw.store().seal(&tenant, &mut sealed).await?;
        sqlx::query("UPDATE gateway_idempotency SET status = $1, response = $2 WHERE scope = $3 AND key = $4")
            .bind(parts.status.as_u16() as i64)
            .bind(sealed.to_string())
            .bind(&scope)
            .bind(&key)
            .execute(db)
            .await?;
    }
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Ok(Response::from_parts(parts, Body::from(bytes)))
}

async fn replay(
    gw: &Gateway,
    tenant: &str,
    status: i64,
    stored: &str,
) -> Result<Response, ApiError> {
    let opened: Sealed<Value> =
        serde_json::from_value(gw.store().open_payload(tenant, stored).await?)
            .map_err(ApiError::internal)?;
    let status = StatusCode::from_u16(status as u16).map_err(ApiError::internal)?;
    let body = opened.value().cloned().unwrap_or(Value::Null);
    let mut response = if body.is_null() {
        status.into_response()
    } else {
        (status, axum::Json(body)).into_response()
    };
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    Ok(response)
}
