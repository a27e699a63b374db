//! One trace follows a request from the gateway, through the log and NATS, into the
//! service that consumes its event.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use casewire_bus::{relay, Bus, Nats, NatsAccess, NatsSettings, Projection, Reader, Reads};
use casewire_crypto::Key;
use casewire_events::{Actor, Metadata, RecordedEvent};
use casewire_eventstore::{Db, EventStore, NewEvent};
use casewire_testkit::{wait_for, NatsServer, PgServer};
use opentelemetry::trace::TraceId;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use sqlx::{Any, Transaction};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

struct Ignore;

#[async_trait]
impl Projection for Ignore {
    fn name(&self) -> &'static str {
        "test_trace"
    }
    fn reads(&self) -> Reads {
        Reads::Everything
    }
    async fn apply(
        &self,
        _: &mut Transaction<'static, Any>,
        _: &EventStore,
        _: &RecordedEvent,
    ) -> anyhow::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_and_the_consumer_of_its_event_share_one_trace() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    casewire_telemetry::install(
        tracing_subscriber::EnvFilter::new("info"),
        false,
        Some(provider.clone()),
    );

    let (pg, nats_server) = (
        PgServer::start().await.unwrap(),
        NatsServer::start().await.unwrap(),
    );
    let db = Db::connect(&pg.fresh_database().await.unwrap())
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let store = EventStore::new(db, Key::generate());
    let nats = Nats::connect(&NatsSettings::new(
        NatsAccess::at(&nats_server.url()),
        &Key::generate(),
    ))
    .await
    .unwrap();
    let stop = CancellationToken::new();
    tokio::spawn(relay::run(store.clone(), nats.clone(), stop.clone()));
    Bus::nats(nats.clone()).run_reader(
        Reader::new(&store, "test_trace", vec![Arc::new(Ignore)]),
        stop.clone(),
    );
    // Append only once the consumer listens, so the event reaches it through NATS.
    wait_for("the durable consumer", Duration::from_secs(30), || async {
        let stream = nats
            .jetstream()
            .get_stream(casewire_events::subjects::EVENTS_STREAM)
            .await
            .ok()?;
        stream.consumer_info("test_trace").await.ok().map(|_| ())
    })
    .await;

    // What the gateway does: record the request's trace context in the event's metadata.
    let request = tracing::info_span!("request");
    async {
        let trace = casewire_telemetry::inject();
        let metadata = Metadata {
            traceparent: trace.get("traceparent").cloned(),
            ..Metadata::new(Actor::Operator)
        };
        store
            .append(
                "t1",
                vec![NewEvent {
                    aggregate_type: "tenant".into(),
                    aggregate_id: "t1".into(),
                    sequence: 1,
                    event_type: "TenantCreated".into(),
                    event_version: "1".into(),
                    payload: serde_json::json!({}),
                    metadata: serde_json::to_value(metadata).unwrap(),
                }],
            )
            .await
            .unwrap();
    }
    .instrument(request)
    .await;

    let spans = wait_for("the consumer's span", Duration::from_secs(30), || async {
        let spans = exporter.get_finished_spans().unwrap();
        spans.iter().any(|s| s.name == "consume").then_some(spans)
    })
    .await;
    let trace_of = |name: &str| -> TraceId {
        spans
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no {name} span"))
            .span_context
            .trace_id()
    };
    let request_trace = trace_of("request");
    assert_ne!(request_trace, TraceId::INVALID);
    assert_eq!(
        trace_of("consume"),
        request_trace,
        "the consumer continues the request's trace"
    );
    stop.cancel();
}
