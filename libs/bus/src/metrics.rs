//! What a service reports to the operator's metrics (OTLP, when it is set up): texts by the
//! status they reach, counted where their events are recorded; and, sampled once per export
//! interval, each service's projection lag and its queues' depth, measured as `status`
//! measures them for `GET /v1/status`.

use std::any::Any;
use std::sync::{Arc, LazyLock};

use casewire_events::message::MessageEvent;
use opentelemetry::metrics::{Counter, Gauge};
use opentelemetry::KeyValue;
use tokio_util::sync::CancellationToken;

use crate::service::Status;

struct Instruments {
    texts: Counter<u64>,
    lag: Gauge<i64>,
    depth: Gauge<i64>,
}

static INSTRUMENTS: LazyLock<Instruments> = LazyLock::new(|| {
    let meter = casewire_telemetry::meter();
    Instruments {
        texts: meter
            .u64_counter("casewire.texts")
            .with_description("Texts that reached a status (queued, refused, accepted, sent, delivered, failed, received, …)")
            .with_unit("{text}")
            .build(),
        lag: meter
            .i64_gauge("casewire.projection.lag")
            .with_description("Events of the log a service's reader has not applied yet")
            .with_unit("{event}")
            .build(),
        depth: meter
            .i64_gauge("casewire.queue.depth")
            .with_description("Jobs in a queue: due now, scheduled for later, retrying after a failure")
            .with_unit("{job}")
            .build(),
    }
});

/// Counts the texts among events just recorded by the status each reaches. Generic over the
/// aggregate's events so the one place every event is recorded counts them; only a text's
/// events count.
pub(crate) fn recorded<E: Any>(events: &[E]) {
    for e in events {
        let status = (e as &dyn Any)
            .downcast_ref::<MessageEvent>()
            .and_then(MessageEvent::text_status);
        if let Some(status) = status {
            INSTRUMENTS
                .texts
                .add(1, &[KeyValue::new("status", status.to_string())]);
        }
    }
}

/// Samples a service's lag and queues once per export interval until `stop`, when metrics
/// are on (a query per queue and one for the lag, each interval: nothing otherwise).
pub(crate) async fn sample(status: Arc<Status>, stop: CancellationToken) {
    if !casewire_telemetry::metrics_on() {
        return;
    }
    let every = casewire_telemetry::metric_interval();
    loop {
        match status.measure().await {
            Ok(s) => {
                let service = KeyValue::new("service", s.service.clone());
                INSTRUMENTS
                    .lag
                    .record(s.events_behind, std::slice::from_ref(&service));
                for q in &s.jobs {
                    for (state, n) in [
                        ("due", q.due),
                        ("scheduled", q.scheduled),
                        ("retrying", q.retrying),
                    ] {
                        INSTRUMENTS.depth.record(
                            n,
                            &[
                                service.clone(),
                                KeyValue::new("queue", q.queue.clone()),
                                KeyValue::new("state", state),
                            ],
                        );
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e.message, "could not sample the service's status"),
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}
