//! Logs, traces and metrics. Structured logs through `tracing` always; OpenTelemetry traces
//! and metrics over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set. W3C trace context
//! crosses process boundaries in event metadata and NATS headers through [`inject`] and
//! [`continue_from`]. Instruments come from [`meter`]; work that exists only to be measured
//! (sampling queue depths) asks [`metrics_on`] first.
//!
//! Never log a secret or a client's text: log ids, counts and outcomes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// Flushes pending spans and metrics when dropped: keep it alive for the life of `main`.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
    meters: Option<SdkMeterProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(p) = self.provider.take() {
            let _ = p.shutdown();
        }
        if let Some(m) = self.meters.take() {
            let _ = m.shutdown();
        }
    }
}

static METRICS_ON: AtomicBool = AtomicBool::new(false);

/// Whether metrics go anywhere: without an exporter, recording is free but sampling (a
/// query for a queue's depth) is not, so samplers ask this first.
pub fn metrics_on() -> bool {
    METRICS_ON.load(Ordering::Relaxed)
}

/// casewire's meter: instruments made from it export when metrics are on, and cost next to
/// nothing when they are not.
pub fn meter() -> opentelemetry::metrics::Meter {
    opentelemetry::global::meter("casewire")
}

/// How often metrics are exported, and so how often a sampled gauge is worth measuring:
/// `OTEL_METRIC_EXPORT_INTERVAL` in milliseconds, as the SDK reads it (60 s by default).
pub fn metric_interval() -> Duration {
    std::env::var("OTEL_METRIC_EXPORT_INTERVAL")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|ms| *ms > 0)
        .map_or(Duration::from_secs(60), Duration::from_millis)
}

/// Installs the global subscriber. `json` chooses JSON lines (for production log shipping)
/// over human-readable lines. Safe to call more than once: later calls change nothing.
pub fn init(service: &str, json: bool, otlp_endpoint: Option<&str>) -> Telemetry {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,async_nats=warn,tower_http=info"));
    let provider = otlp_endpoint.and_then(|endpoint| {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
            .build()
            .map_err(|e| eprintln!("OpenTelemetry exporter not started: {e}"))
            .ok()?;
        // The batch processor on tokio: the SDK's default one exports from a thread of its
        // own, where the async HTTP client finds no runtime and panics (no span was ever
        // exported that way).
        let batch = opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor::builder(
            exporter,
            opentelemetry_sdk::runtime::Tokio,
        )
        .build();
        Some(
            SdkTracerProvider::builder()
                .with_span_processor(batch)
                .with_resource(resource(service))
                .build(),
        )
    });
    let meters = otlp_endpoint.and_then(|endpoint| {
        let exporter = opentelemetry_otlp::MetricExporter::builder()
            .with_http()
            .with_endpoint(format!("{}/v1/metrics", endpoint.trim_end_matches('/')))
            .build()
            .map_err(|e| eprintln!("OpenTelemetry metric exporter not started: {e}"))
            .ok()?;
        // On tokio, for the reason the span processor is.
        let reader = opentelemetry_sdk::metrics::periodic_reader_with_async_runtime::PeriodicReader::builder(
            exporter,
            opentelemetry_sdk::runtime::Tokio,
        )
        .with_interval(metric_interval())
        .build();
        let meters = SdkMeterProvider::builder()
            .with_reader(reader)
            .with_resource(resource(service))
            .build();
        opentelemetry::global::set_meter_provider(meters.clone());
        METRICS_ON.store(true, Ordering::Relaxed);
        Some(meters)
    });
    install(filter, json, provider.clone());
    Telemetry { provider, meters }
}

/// Who reports: the service, and this process among its replicas (two messaging processes'
/// counters are two series, not one that jumps back and forth).
fn resource(service: &str) -> opentelemetry_sdk::Resource {
    static INSTANCE: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| uuid::Uuid::new_v4().to_string());
    opentelemetry_sdk::Resource::builder()
        .with_service_name(service.to_string())
        .with_attribute(opentelemetry::KeyValue::new(
            "service.instance.id",
            INSTANCE.clone(),
        ))
        .build()
}

/// Installs the subscriber with a given tracer provider (tests pass one with an in-memory
/// exporter).
pub fn install(filter: EnvFilter, json: bool, provider: Option<SdkTracerProvider>) {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let otel = provider.map(|p| {
        let tracer = p.tracer("casewire");
        opentelemetry::global::set_tracer_provider(p);
        tracing_opentelemetry::layer().with_tracer(tracer)
    });
    let registry = tracing_subscriber::registry().with(filter).with(otel);
    let _ = if json {
        registry
            .with(tracing_subscriber::fmt::layer().json())
            .try_init()
    } else {
        // Colours only for a person at a terminal: no escape codes in a file or a pipe.
        let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
        registry
            .with(tracing_subscriber::fmt::layer().with_ansi(ansi))
            .try_init()
    };
}

/// The W3C trace context (`traceparent`, `tracestate`) of the current span; empty when
/// tracing is off.
pub fn inject() -> HashMap<String, String> {
    let mut carrier = HashMap::new();
    let cx = tracing::Span::current().context();
    TraceContextPropagator::new().inject_context(&cx, &mut carrier);
    carrier
}

/// Makes `span` a child of the trace described by `carrier` (from `inject`, elsewhere).
pub fn continue_from(span: &tracing::Span, carrier: &HashMap<String, String>) {
    if carrier.contains_key("traceparent") {
        let cx = TraceContextPropagator::new().extract(carrier);
        span.set_parent(cx);
    }
}
