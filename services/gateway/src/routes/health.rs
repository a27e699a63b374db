use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::{ApiError, Auth, Gateway};

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "alive")))]
pub(crate) async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// The store and the bus are reachable: send traffic here.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses(
    (status = 200, description = "ready"),
    (status = 503, description = "the store or the bus is unreachable"),
))]
pub(crate) async fn readyz(State(gw): State<Gateway>) -> (StatusCode, Json<Value>) {
    let store = gw.store().db().ping().await.map_err(|e| e.to_string());
    let bus = gw.bus().ready().await.map_err(|e| e.to_string());
    let status = if store.is_ok() && bus.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let show = |r: &Result<(), String>| match r {
        Ok(()) => json!("ok"),
        Err(e) => json!({ "error": e }),
    };
    (
        status,
        Json(json!({ "store": show(&store), "bus": show(&bus) })),
    )
}

pub(crate) async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(crate::openapi::document())
}

/// Each service's status: reachable, and how far its projections are behind the log.
#[utoipa::path(get, path = "/v1/status", tag = "operations", security(("operator" = [])), responses(
    (status = 200, description = "one entry per service"),
    (status = 401, description = "no or bad credential"),
    (status = 403, description = "not the operator"),
))]
pub(crate) async fn status(State(gw): State<Gateway>, auth: Auth) -> Result<Json<Value>, ApiError> {
    auth.require_operator()?;
    let mut services = Vec::new();
    for service in casewire_contract::SERVICES {
        services.push(match gw.bus().status(service).await {
            Ok(status) => json!(status),
            Err(e) => json!({ "service": service, "error": e.message }),
        });
    }
    Ok(Json(json!({ "services": services })))
}
