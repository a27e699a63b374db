//! The API's request metric, as OpenTelemetry's HTTP conventions name it:
//! `http.server.request.duration` (seconds) by method, route template and status. A request
//! that never answers (it timed out, or the client went away) is counted with `error.type`
//! instead of a status, so the histogram's count is every request routed.

use std::sync::LazyLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use opentelemetry::metrics::Histogram;
use opentelemetry::KeyValue;

static DURATION: LazyLock<Histogram<f64>> = LazyLock::new(|| {
    casewire_telemetry::meter()
        .f64_histogram("http.server.request.duration")
        .with_description("Duration of HTTP server requests")
        .with_unit("s")
        // The conventions' advice: from 5 ms to 10 s.
        .with_boundaries(vec![
            0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
        ])
        .build()
});

/// Records the request when it ends, or when its future is dropped unanswered.
struct Timing {
    started: Instant,
    attributes: Vec<KeyValue>,
    status: Option<u16>,
}

impl Drop for Timing {
    fn drop(&mut self) {
        let mut attributes = std::mem::take(&mut self.attributes);
        attributes.push(match self.status {
            Some(code) => KeyValue::new("http.response.status_code", i64::from(code)),
            None => KeyValue::new("error.type", "cancelled"),
        });
        DURATION.record(self.started.elapsed().as_secs_f64(), &attributes);
    }
}

/// Layered on the routes (`route_layer`), where the route template is known: the metric's
/// `http.route` is `/v1/cases/{case_id}/messages`, never a case's id.
pub(crate) async fn measure(route: MatchedPath, request: Request, next: Next) -> Response {
    let mut timing = Timing {
        started: Instant::now(),
        attributes: vec![
            KeyValue::new("http.request.method", request.method().to_string()),
            KeyValue::new("http.route", route.as_str().to_string()),
        ],
        status: None,
    };
    let response = next.run(request).await;
    timing.status = Some(response.status().as_u16());
    response
}
