//! Probes for a process that serves no API (`serve messaging`, `consent`, `case-link`):
//! `/healthz` (alive) and `/readyz` (its store and the bus answer, within a second), on
//! `CASEWIRE_HTTP_ADDR`, so an orchestrator can restart or hold it like the gateway.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use casewire_bus::Bus;
use casewire_eventstore::EventStore;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

const READY_WITHIN: Duration = Duration::from_millis(800);

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
    let bounded = |r: Result<Result<(), String>, _>| {
        r.unwrap_or_else(|_| Err(format!("no answer within {READY_WITHIN:?}")))
    };
    let (store, bus) = tokio::join!(
        tokio::time::timeout(READY_WITHIN, async {
            p.store.db().ping().await.map_err(|e| e.to_string())
        }),
        tokio::time::timeout(READY_WITHIN, async {
            p.bus.ready().await.map_err(|e| e.to_string())
        }),
    );
    let (store, bus) = (bounded(store), bounded(bus));
    let status = match store.is_ok() && bus.is_ok() {
        true => StatusCode::OK,
        false => StatusCode::SERVICE_UNAVAILABLE,
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
