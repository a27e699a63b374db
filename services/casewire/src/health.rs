//! Probes for a process that serves no API (`serve messaging`, `consent`, `case-link`):
//! `/healthz` (alive) and `/readyz` (its store and the bus answer, within a second), on
//! `CASEWIRE_HTTP_ADDR`, so an orchestrator can restart or hold it like the gateway.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use casewire_bus::probe::Probe;
use casewire_bus::Bus;
use casewire_eventstore::EventStore;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

#[derive(Clone)]
struct Probed {
    store: EventStore,
    bus: Bus,
}

pub async fn serve(
    listener: TcpListener,
    store: EventStore,
    bus: Bus,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let app = Router::new()
        .route(
            "/healthz",
            get(|| async { Json(json!({ "status": "ok" })) }),
        )
        .route("/readyz", get(readyz))
        .with_state(Probed { store, bus });
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await?;
    Ok(())
}

async fn readyz(State(p): State<Probed>) -> (StatusCode, Json<Value>) {
    let probe = Probe::run(&p.store, &p.bus).await;
    let status = match probe.ok() {
        true => StatusCode::OK,
        false => StatusCode::SERVICE_UNAVAILABLE,
    };
    (status, Json(Value::Object(probe.body())))
}
