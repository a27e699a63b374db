use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use casewire_bus::probe::{self, Probe};
use serde_json::{json, Value};

use crate::{ApiError, Auth, Gateway};

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "alive")))]
pub(crate) async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// How long `/v1/status` waits for each service.
const STATUS_WITHIN: Duration = Duration::from_secs(2);
/// How long it counts the processes that answer a service's ping.
const REPLICAS_WITHIN: Duration = Duration::from_millis(300);

/// Ready to serve a send: the store and the bus are reachable and messaging answers
/// commands. Every service's answer is in the body; only messaging's decides, because a
/// gateway that went unready whenever one service is down would take the whole API out
/// with it (the service's own endpoints answer 503 at once, the rest serve). Answers within
/// a second, whatever is down.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses(
    (status = 200, description = "ready"),
    (status = 503, description = "the store or the bus is unreachable, or no messaging process answers"),
))]
pub(crate) async fn readyz(State(gw): State<Gateway>) -> (StatusCode, Json<Value>) {
    let services = futures::future::join_all(casewire_contract::SERVICES.iter().map(|service| {
        let gw = gw.clone();
        async move {
            let answered = probe::within("the service", async {
                gw.bus()
                    .status(service)
                    .await
                    .map(drop)
                    .map_err(|e| e.message)
            });
            (*service, answered.await)
        }
    }));
    let (probe, services) = tokio::join!(Probe::run(gw.store(), gw.bus()), services);
    let messaging = services
        .iter()
        .any(|(s, r)| *s == casewire_contract::messaging::SERVICE && r.is_ok());
    let status = if probe.ok() && messaging {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut body = probe.body();
    body.insert(
        "services".into(),
        services
            .iter()
            .map(|(s, r)| (s.to_string(), probe::show(r)))
            .collect::<serde_json::Map<String, Value>>()
            .into(),
    );
    (status, Json(Value::Object(body)))
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
    // Asked together, each within a bound: a service that does not answer is shown so, and
    // does not hold up the rest.
    let services = futures::future::join_all(casewire_contract::SERVICES.iter().map(|service| {
        let gw = gw.clone();
        async move {
            let (status, replicas) = tokio::join!(
                tokio::time::timeout(STATUS_WITHIN, gw.bus().status(service)),
                gw.bus().replicas(service, REPLICAS_WITHIN),
            );
            let mut status = match status {
                Ok(Ok(status)) => json!(status),
                Ok(Err(e)) => json!({ "service": service, "error": e.message }),
                Err(_) => json!({ "service": service, "error": format!("no answer within {STATUS_WITHIN:?}") }),
            };
            status["replicas"] = json!(replicas);
            status
        }
    }));
    let relay = tokio::time::timeout(STATUS_WITHIN, casewire_bus::relay::status(gw.store()));
    let (services, relay) = tokio::join!(services, relay);
    let relay = match relay {
        Ok(Ok(relay)) => json!(relay),
        Ok(Err(e)) => json!({ "error": e.to_string() }),
        Err(_) => json!({ "error": format!("no answer within {STATUS_WITHIN:?}") }),
    };
    Ok(Json(json!({ "services": services, "relay": relay })))
}
