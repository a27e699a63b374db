//! The bus against a real nats-server with JetStream and a real PostgreSQL, and the
//! in-process bus of the embedded mode.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use casewire_bus::{
    relay, Bus, CommandError, Envelope, ErrorCode, Handlers, Nats, NatsAccess, NatsSettings,
    Projection, Reader, Reads,
};
use casewire_contract::messaging::{MessageView, Reply, ReportStatus};
use casewire_crypto::Key;
use casewire_events::{subjects, RecordedEvent};
use casewire_eventstore::{Db, EventStore, NewEvent};
use casewire_testkit::{wait_for, NatsServer, NatsSpy, PgServer};
use serde_json::json;
use sqlx::{Any, Transaction};
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(30);

async fn pg_store(pg: &PgServer) -> EventStore {
    store_with_seen(
        Db::connect(&pg.fresh_database().await.unwrap())
            .await
            .unwrap(),
    )
    .await
}

/// A SQLite store; keep the directory alive as long as the store.
async fn sqlite_store(dir: &tempfile::TempDir) -> EventStore {
    store_with_seen(Db::sqlite_file(&dir.path().join("log.db")).await.unwrap()).await
}

/// A migrated store with the `seen` table of the [`Seen`] projection.
async fn store_with_seen(db: Db) -> EventStore {
    db.migrate().await.unwrap();
    sqlx::query("CREATE TABLE seen (tenant_id TEXT, tenant_seq BIGINT, PRIMARY KEY (tenant_id, tenant_seq))")
        .execute(db.writer())
        .await
        .unwrap();
    EventStore::new(db, Key::generate())
}

async fn append_many(store: &EventStore, tenants: &[&str], per_tenant: i64) {
    let metadata =
        json!({"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"});
    for t in tenants {
        let events: Vec<NewEvent> = (1..=per_tenant)
            .map(|i| NewEvent {
                aggregate_type: "case".into(),
                aggregate_id: "c1".into(),
                sequence: i,
                event_type: "NoteAdded".into(),
                event_version: "1".into(),
                payload: json!({"i": i}),
                metadata: metadata.clone(),
            })
            .collect();
        for chunk in events.chunks(10) {
            store.append(t, chunk.to_vec()).await.unwrap();
        }
    }
}

/// Every message in the stream, in stream order.
async fn stream_contents(nats: &Nats) -> Vec<(RecordedEvent, Option<String>)> {
    let mut stream = nats
        .jetstream()
        .get_stream(subjects::EVENTS_STREAM)
        .await
        .unwrap();
    let last = stream.info().await.unwrap().state.last_sequence;
    let mut out = Vec::new();
    for seq in 1..=last {
        let m = stream.get_raw_message(seq).await.unwrap();
        let trace = m.headers.get("traceparent").map(|v| v.as_str().to_string());
        out.push((serde_json::from_slice(&m.payload).unwrap(), trace));
    }
    out
}

async fn stream_len(nats: &Nats) -> u64 {
    let mut stream = nats
        .jetstream()
        .get_stream(subjects::EVENTS_STREAM)
        .await
        .unwrap();
    stream.info().await.unwrap().state.messages
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_killed_and_restarted_publishes_every_event_exactly_once() {
    let (pg, nats_server) = (
        PgServer::start().await.unwrap(),
        NatsServer::start().await.unwrap(),
    );
    let store = pg_store(&pg).await;
    let nats = Nats::connect(&NatsSettings::new(
        NatsAccess::at(&nats_server.url()),
        &Key::generate(),
    ))
    .await
    .unwrap();
    append_many(&store, &["t1", "t2", "t3"], 200).await;

    // Kill the relay while it is publishing.
    let stop = CancellationToken::new();
    let first = tokio::spawn(relay::run(store.clone(), nats.clone(), stop.clone()));
    wait_for("the relay to publish some events", WAIT, || async {
        (stream_len(&nats).await >= 50).then_some(())
    })
    .await;
    first.abort();
    let _ = first.await;

    // The window a crash leaves: events published, the cursor not yet moved.
    sqlx::query("UPDATE cursors SET seq = seq - 40 WHERE name = 'relay' AND seq >= 40")
        .execute(store.db().writer())
        .await
        .unwrap();

    let second = tokio::spawn(relay::run(store.clone(), nats.clone(), stop.clone()));
    wait_for("every event to be in the stream", WAIT, || async {
        store
            .lagging(relay::CURSOR)
            .await
            .unwrap()
            .is_empty()
            .then_some(())
    })
    .await;
    stop.cancel();
    second.await.unwrap();

    let contents = stream_contents(&nats).await;
    assert_eq!(contents.len(), 600, "each event exactly once");
    let mut last_seq: HashMap<String, i64> = HashMap::new();
    for (e, trace) in &contents {
        let prev = last_seq
            .insert(e.tenant_id.clone(), e.tenant_seq)
            .unwrap_or(0);
        assert_eq!(
            e.tenant_seq,
            prev + 1,
            "tenant {} out of order",
            e.tenant_id
        );
        assert_eq!(
            trace.as_deref(),
            Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        );
    }
    // The stream carries exactly the committed rows: they re-verify.
    let log = store.read_log("t2", 0, 1000).await.unwrap();
    let published: Vec<_> = contents
        .iter()
        .map(|(e, _)| e)
        .filter(|e| e.tenant_id == "t2")
        .cloned()
        .collect();
    assert_eq!(published, log);
}

/// Reads every event and keeps nothing: a consumer that receives all of them.
struct Everything;

#[async_trait]
impl Projection for Everything {
    fn name(&self) -> &'static str {
        "test_everything"
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

/// docs/audit-chain.md, "On the bus": an outside subscriber to `casewire.evt.>` sees each
/// event once, while one to every subject (`>`) sees it once as published and once more for
/// each durable consumer JetStream delivers it to (on the pulling service's inbox).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_to_every_subject_sees_an_event_once_per_consumer_delivery_too() {
    let (pg, nats_server) = (
        PgServer::start().await.unwrap(),
        NatsServer::start().await.unwrap(),
    );
    let store = pg_store(&pg).await;
    let nats = Nats::connect(&NatsSettings::new(
        NatsAccess::at(&nats_server.url()),
        &Key::generate(),
    ))
    .await
    .unwrap();
    let outsider = async_nats::connect(nats_server.url()).await.unwrap();
    let (mut everything, mut events) = (
        outsider.subscribe(">").await.unwrap(),
        outsider.subscribe("casewire.evt.>").await.unwrap(),
    );
    outsider.flush().await.unwrap();
    let bus = Bus::nats(nats.clone());
    let stop = CancellationToken::new();
    tokio::spawn(relay::run(store.clone(), nats.clone(), stop.clone()));
    // Two consumers that read the event, and one whose filter leaves it out.
    bus.run_reader(
        Reader::new(&store, "test_everything", vec![Arc::new(Everything)]),
        stop.clone(),
    );
    bus.run_reader(seen_reader(&store), stop.clone());
    bus.run_reader(
        Reader::new(&store, "test_elsewhere", vec![Arc::new(Elsewhere)]),
        stop.clone(),
    );
    let stream = nats
        .jetstream()
        .get_stream(subjects::EVENTS_STREAM)
        .await
        .unwrap();
    wait_for("three durable consumers", WAIT, || async {
        let ready = ["test_everything", "test_seen", "test_elsewhere"];
        for name in ready {
            stream.consumer_info(name).await.ok()?;
        }
        Some(())
    })
    .await;

    append_many(&store, &["t1"], 1).await;
    let id = store.read_log("t1", 0, 1).await.unwrap().remove(0).event_id;
    wait_for("the event applied", WAIT, || async {
        (seen(&store).await == 1).then_some(())
    })
    .await;
    let carrying = |m: &async_nats::Message| String::from_utf8_lossy(&m.payload).contains(&id);
    let mut copies = 0;
    wait_for("the publish and both deliveries", WAIT, || {
        while let Some(Some(m)) =
            futures::FutureExt::now_or_never(futures::StreamExt::next(&mut everything))
        {
            copies += carrying(&m) as usize;
        }
        let n = copies;
        async move { (n >= 3).then_some(()) }
    })
    .await;
    assert_eq!(copies, 3, "once published, once per consumer that reads it");
    let published = futures::StreamExt::next(&mut events).await.unwrap();
    assert!(carrying(&published));
    assert!(
        futures::FutureExt::now_or_never(futures::StreamExt::next(&mut events)).is_none(),
        "casewire.evt.> carries it once"
    );
    stop.cancel();
}

/// Records every event it applies; a second application of one would violate the key.
struct Seen;

#[async_trait]
impl Projection for Seen {
    fn name(&self) -> &'static str {
        "test_seen"
    }
    fn reads(&self) -> Reads {
        Reads::Everything
    }
    async fn apply(
        &self,
        tx: &mut Transaction<'static, Any>,
        _: &EventStore,
        e: &RecordedEvent,
    ) -> anyhow::Result<()> {
        sqlx::query("INSERT INTO seen (tenant_id, tenant_seq) VALUES ($1, $2)")
            .bind(&e.tenant_id)
            .bind(e.tenant_seq)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

/// A reader with [`Seen`] alone, as a service with one projection would have.
fn seen_reader(store: &EventStore) -> Reader {
    Reader::new(store, "test_seen", vec![Arc::new(Seen)])
}

async fn seen(store: &EventStore) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM seen")
        .fetch_one(store.db().reader())
        .await
        .unwrap();
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_durable_consumer_applies_each_event_once_across_redelivery_and_a_nats_restart() {
    let (pg, mut nats_server) = (
        PgServer::start().await.unwrap(),
        NatsServer::start().await.unwrap(),
    );
    let store = pg_store(&pg).await;
    let nats = Nats::connect(&NatsSettings::new(
        NatsAccess::at(&nats_server.url()),
        &Key::generate(),
    ))
    .await
    .unwrap();
    let bus = Bus::nats(nats.clone());
    let stop = CancellationToken::new();
    tokio::spawn(relay::run(store.clone(), nats.clone(), stop.clone()));
    let consumer = bus.run_reader(seen_reader(&store), stop.clone());

    append_many(&store, &["t1", "t2"], 30).await;
    wait_for("60 events applied", WAIT, || async {
        (seen(&store).await == 60).then_some(())
    })
    .await;

    // A redelivered event (published again under another id) changes nothing.
    let again = store.read_log("t1", 4, 1).await.unwrap().remove(0);
    nats.jetstream()
        .publish(
            subjects::event("t1", "case", "NoteAdded"),
            serde_json::to_vec(&again).unwrap().into(),
        )
        .await
        .unwrap()
        .await
        .unwrap();

    // NATS goes down and comes back; events committed meanwhile arrive all the same.
    nats_server.kill();
    append_many(&store, &["t3"], 10).await;
    nats_server.restart().await;
    wait_for("70 events applied", WAIT, || async {
        (seen(&store).await == 70).then_some(())
    })
    .await;
    let stream_has_duplicate = stream_len(&nats).await;
    assert_eq!(
        stream_has_duplicate, 71,
        "the test's duplicate really went through the stream"
    );
    assert_eq!(seen(&store).await, 70);
    stop.cancel();
    consumer.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_in_process_bus_feeds_projections_from_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(&dir).await;
    let stop = CancellationToken::new();
    let bus = Bus::in_process();
    append_many(&store, &["t1"], 5).await;
    let follower = bus.run_reader(seen_reader(&store), stop.clone());
    append_many(&store, &["t2"], 5).await;
    wait_for("10 events applied", WAIT, || async {
        (seen(&store).await == 10).then_some(())
    })
    .await;
    // Another reader of the same name (a restart, a replica) applies nothing a second time.
    seen_reader(&store).reach("t1", 5).await.unwrap();
    assert_eq!(seen(&store).await, 10);
    stop.cancel();
    follower.await.unwrap();
}

/// A messaging that answers `reply` with the text it would queue, and nothing else.
struct Echo;

impl Echo {
    async fn reply(self: Arc<Self>, cmd: Envelope<Reply>) -> Result<MessageView, CommandError> {
        Ok(MessageView {
            id: cmd.body.id,
            case_id: None,
            direction: "outbound".into(),
            phone: cmd.body.to,
            body: Some(cmd.body.body),
            status: "queued".into(),
            error_code: None,
            error_reason: None,
            segments: 1,
            encoding: "GSM-7".into(),
            price_usd: 0.0079,
            purpose: Some(cmd.tenant),
            deliver_after: None,
            routing: None,
            routing_reason: None,
            flag: None,
            media: Vec::new(),
            sent_by: None,
            on_behalf_of: None,
            created_at: String::new(),
            updated_at: String::new(),
        })
    }
}

async fn commands_round_trip(bus: Bus) {
    let stop = CancellationToken::new();
    let echo =
        Handlers::new(casewire_contract::messaging::SERVICE, Echo).on::<Reply, _, _>(Echo::reply);
    bus.serve_commands("messaging", Arc::new(echo), stop.clone())
        .await
        .unwrap();
    let reply = Reply {
        id: "m-1".into(),
        to: "+13125550100".into(),
        body: "Got it".into(),
        in_reply_to: None,
    };
    let answer = bus.ask("t1", Default::default(), reply).await.unwrap();
    assert_eq!(
        (
            answer.id.as_str(),
            answer.body.as_deref(),
            answer.purpose.as_deref()
        ),
        ("m-1", Some("Got it"), Some("t1")),
        "the answer is the service's, typed, for the tenant asked"
    );
    let status = ReportStatus {
        message_id: "m-1".into(),
        status: "delivered".into(),
        error_code: None,
        provider_sid: None,
    };
    let err = bus.ask("t1", Default::default(), status).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::UnknownCommand, "{err}");
    let request = casewire_contract::consent::Request {
        phone: "+13125550100".into(),
        language: None,
    };
    let err = bus
        .ask("t1", Default::default(), request)
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Unavailable, "{err}");
    stop.cancel();
}

#[tokio::test]
async fn commands_are_request_reply_over_nats_sealed_from_anyone_listening() {
    let server = NatsServer::start().await.unwrap();
    let nats = Nats::connect(&NatsSettings::new(
        NatsAccess::at(&server.url()),
        &Key::generate(),
    ))
    .await
    .unwrap();
    commands_round_trip(Bus::nats(nats.clone())).await;

    let stop = CancellationToken::new();
    let echo =
        Handlers::new(casewire_contract::messaging::SERVICE, Echo).on::<Reply, _, _>(Echo::reply);
    let bus = Bus::nats(nats);
    bus.serve_commands("messaging", Arc::new(echo), stop.clone())
        .await
        .unwrap();
    // Someone with access to NATS sees every subject, the answers' inboxes too.
    let spy = NatsSpy::start(&server.url()).await;
    let reply = || Reply {
        id: "m-2".into(),
        to: "+13125550100".into(),
        body: "Your hearing is Monday".into(),
        in_reply_to: None,
    };
    let answer = bus.ask("t1", Default::default(), reply()).await.unwrap();
    assert_eq!(answer.body.as_deref(), Some("Your hearing is Monday"));
    spy.assert_never_saw(&["hearing", "+13125550100", "m-2"])
        .await;
    let subjects = spy.subjects();
    assert!(
        subjects[0] == "casewire.cmd.messaging.reply" && subjects[1].starts_with("_INBOX."),
        "the spy heard the command and its answer: {subjects:?}"
    );

    // A process with another master key is refused, and says why.
    let other = Nats::connect(&NatsSettings::new(
        NatsAccess::at(&server.url()),
        &Key::generate(),
    ))
    .await
    .unwrap();
    let err = Bus::nats(other)
        .ask("t1", Default::default(), reply())
        .await
        .unwrap_err();
    assert!(err.message.contains("CASEWIRE_MASTER_KEY"), "{err}");
    stop.cancel();
}

#[tokio::test]
async fn commands_are_calls_in_process() {
    commands_round_trip(Bus::in_process()).await;
}

/// Deletes event `seq` of tenant t1 from a SQLite log, as a database superuser could.
async fn delete_behind_the_stores_back(store: &EventStore, seq: i64) {
    sqlx::query("DROP TRIGGER IF EXISTS events_no_delete")
        .execute(store.db().writer())
        .await
        .unwrap();
    sqlx::query("DELETE FROM events WHERE tenant_id = 't1' AND tenant_seq = $1")
        .bind(seq)
        .execute(store.db().writer())
        .await
        .unwrap();
}

/// A store on the SQLite log of [`sqlite_store`], as another process (or this one after a
/// restart) would open it: it shares nothing in memory with the first.
async fn another_process(dir: &tempfile::TempDir) -> EventStore {
    EventStore::new(
        Db::sqlite_file(&dir.path().join("log.db")).await.unwrap(),
        Key::generate(),
    )
}

#[tokio::test]
async fn catching_up_over_a_log_with_a_missing_event_stops_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(&dir).await;
    append_many(&store, &["t1"], 3).await;
    // A database superuser deletes an event behind the store's back.
    delete_behind_the_stores_back(&store, 2).await;
    // Read after a restart: this process never appended the events, so only the log has them.
    let restarted = another_process(&dir).await;
    let err = seen_reader(&restarted)
        .reach("t1", 3)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("has no event 2") && err.contains("audit verify"),
        "{err}"
    );
    assert_eq!(
        seen(&store).await,
        1,
        "what came before the gap was applied"
    );
}

/// The event that would come after `prev` in its tenant's chain, linked and hashed as the
/// store would, but never appended: what only a message can carry.
fn next_after(prev: &RecordedEvent) -> RecordedEvent {
    use casewire_eventstore::chain::{event_hash, to_hex};
    let mut e = RecordedEvent {
        tenant_seq: prev.tenant_seq + 1,
        event_id: format!("{}-next", prev.event_id),
        sequence: prev.sequence + 1,
        prev_hash: prev.hash.clone(),
        ..prev.clone()
    };
    let mut link = [0u8; 32];
    hex::decode_to_slice(&prev.hash, &mut link).unwrap();
    e.hash = to_hex(&event_hash(&link, &e));
    e
}

#[tokio::test]
async fn delivered_events_that_follow_on_are_applied_as_they_came_and_the_rest_from_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(&dir).await;
    append_many(&store, &["t1"], 5).await;
    let log = store.read_log("t1", 0, 10).await.unwrap();
    let reader = seen_reader(&store);
    reader.reach("t1", 3).await.unwrap();

    // A message carries event 5 alone (4 was filtered out, or is late): 4 is read from the log.
    reader.deliver("t1", vec![log[4].clone()]).await.unwrap();
    assert_eq!(
        seen(&store).await,
        5,
        "the event in between was read from the log"
    );

    // Event 6 is in no log: only the message has it, so only the message can apply it.
    let next = next_after(&log[4]);
    let mut altered = next.clone();
    altered.payload = r#"{"i":"altered on the way"}"#.into();
    let err = reader.deliver("t1", vec![altered]).await.unwrap_err();
    assert!(err.to_string().contains("ends at 5, before 6"), "{err}");
    assert_eq!(
        seen(&store).await,
        5,
        "a message that does not hash to its content is not applied"
    );

    reader.deliver("t1", vec![next.clone()]).await.unwrap();
    assert_eq!(
        seen(&store).await,
        6,
        "linked to the last event read: applied as it came"
    );
    reader.deliver("t1", vec![next]).await.unwrap();
    assert_eq!(seen(&store).await, 6, "delivered again: nothing happens");
}

#[tokio::test]
async fn a_reader_takes_what_this_process_just_appended_from_memory_and_the_rest_from_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(&dir).await;
    let on = |aggregate: &str, sequence: i64| NewEvent {
        aggregate_id: aggregate.into(),
        ..event(sequence, "NoteAdded")
    };
    let reader = seen_reader(&store);
    store
        .append("t1", (1..=3).map(|i| on("c1", i)).collect())
        .await
        .unwrap();
    reader.reach("t1", 3).await.unwrap();

    // Events 4 and 5 are appended, then 5 is deleted behind the store's back: read from the
    // log, it would be a gap the reader stops at.
    store
        .append("t1", vec![on("c1", 4), on("c3", 1)])
        .await
        .unwrap();
    delete_behind_the_stores_back(&store, 5).await;
    reader.reach("t1", 5).await.unwrap();
    assert_eq!(
        seen(&store).await,
        5,
        "4 and 5 came from memory, linked to 3"
    );

    // Another process on the same database appends 6 and 7; this one then appends 8. This
    // process never had 6 and 7: the reader reads them, and 8, from the log.
    let other = another_process(&dir).await;
    other
        .append("t1", vec![on("c2", 1), on("c2", 2)])
        .await
        .unwrap();
    let last = store.append("t1", vec![on("c1", 5)]).await.unwrap();
    assert_eq!(last[0].tenant_seq, 8);
    reader.reach("t1", 8).await.unwrap();
    assert_eq!(seen(&store).await, 8, "every event applied, once");
}

/// Reads only another aggregate's events: to the reader, the test's `case` events are noise.
struct Elsewhere;

#[async_trait]
impl Projection for Elsewhere {
    fn name(&self) -> &'static str {
        "test_elsewhere"
    }
    fn reads(&self) -> Reads {
        const OF: &[casewire_bus::Of] = &[casewire_bus::Of::all("appointment")];
        Reads::Only(OF)
    }
    async fn apply(
        &self,
        _: &mut Transaction<'static, Any>,
        _: &EventStore,
        e: &RecordedEvent,
    ) -> anyhow::Result<()> {
        panic!("handed an event it does not read: {}", e.event_type)
    }
}

#[tokio::test]
async fn a_reader_passes_events_no_projection_reads_without_writing_and_records_its_place_when_idle(
) {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(&dir).await;
    append_many(&store, &["t1"], 5).await;
    let reader = Reader::new(&store, "test_elsewhere", vec![Arc::new(Elsewhere)]);
    reader.reach("t1", 5).await.unwrap();
    assert_eq!(reader.events_behind().await.unwrap(), 0);
    assert_eq!(
        store.cursor("test_elsewhere", "t1").await.unwrap(),
        0,
        "no transaction: the place is kept in memory"
    );
    reader.flush().await.unwrap();
    assert_eq!(store.cursor("test_elsewhere", "t1").await.unwrap(), 5);
    assert_eq!(
        reader.subjects(),
        vec![casewire_events::subjects::event_filter("appointment", None)],
        "its consumer on NATS receives only what it reads"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_of_a_reader_apply_each_event_once() {
    let pg = PgServer::start().await.unwrap();
    let store = pg_store(&pg).await;
    let (a, b) = (seen_reader(&store), seen_reader(&store));
    let appending = append_many(&store, &["t1"], 40);
    let racing = async {
        for seq in (2..=40).step_by(2) {
            // Each asks for its own events, as a command in each replica would.
            let (x, y) = tokio::join!(a.reach("t1", seq - 1), b.reach("t1", seq));
            if x.is_err() || y.is_err() {
                return Err(format!("{x:?} {y:?}"));
            }
        }
        Ok(())
    };
    // The appends go first; the replicas chase them in parallel, racing for the same rows.
    appending.await;
    racing.await.unwrap();
    assert_eq!(
        seen(&store).await,
        40,
        "a second application would break `seen`'s key"
    );
}

/// An inline projection that counts how many times each event reached it, and refuses a
/// `Poison` event.
struct Counted;

#[async_trait]
impl Projection for Counted {
    fn name(&self) -> &'static str {
        "test_counted"
    }
    fn reads(&self) -> Reads {
        Reads::Only(&[])
    }
    fn inline(&self) -> Reads {
        Reads::Everything
    }
    async fn apply(
        &self,
        tx: &mut Transaction<'static, Any>,
        _: &EventStore,
        e: &RecordedEvent,
    ) -> anyhow::Result<()> {
        anyhow::ensure!(e.event_type != "Poison", "a poisoned event");
        sqlx::query(
            "INSERT INTO counted (tenant_id, tenant_seq, times) VALUES ($1, $2, 1) \
             ON CONFLICT (tenant_id, tenant_seq) DO UPDATE SET times = counted.times + 1",
        )
        .bind(&e.tenant_id)
        .bind(e.tenant_seq)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}

/// (seq, times applied) of every event the inline projection saw.
async fn counted(store: &EventStore) -> Vec<(i64, i64)> {
    sqlx::query_as("SELECT tenant_seq, times FROM counted ORDER BY tenant_seq")
        .fetch_all(store.db().reader())
        .await
        .unwrap()
}

fn event(sequence: i64, event_type: &str) -> NewEvent {
    NewEvent {
        aggregate_type: "case".into(),
        aggregate_id: "c1".into(),
        sequence,
        event_type: event_type.into(),
        event_version: "1".into(),
        payload: json!({}),
        metadata: json!({}),
    }
}

#[tokio::test]
async fn an_inline_projection_is_written_with_the_append_once_and_its_failure_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    inline_projection_on(Db::sqlite_file(&dir.path().join("log.db")).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inline_projection_on_postgres_is_in_the_appends_transaction() {
    let pg = PgServer::start().await.unwrap();
    inline_projection_on(
        Db::connect(&pg.fresh_database().await.unwrap())
            .await
            .unwrap(),
    )
    .await;
}

async fn inline_projection_on(db: Db) {
    db.migrate().await.unwrap();
    sqlx::query("CREATE TABLE counted (tenant_id TEXT, tenant_seq BIGINT, times BIGINT, PRIMARY KEY (tenant_id, tenant_seq))")
        .execute(db.writer())
        .await
        .unwrap();
    let key = Key::generate();
    // A process of a version before the projection was inline appended three events.
    let before = EventStore::new(db.clone(), key.clone());
    before
        .append("t1", (1..=3).map(|i| event(i, "NoteAdded")).collect())
        .await
        .unwrap();

    // What the migration that made it inline records: the heads at that moment.
    sqlx::query(
        "INSERT INTO inline_backlog (name, tenant_id, seq) VALUES ('test_counted', 't1', 3)",
    )
    .execute(db.writer())
    .await
    .unwrap();

    let store = EventStore::new(db.clone(), key.clone());
    let reader = Reader::new(&store, "test_counted", vec![Arc::new(Counted)]);
    // Starting, the reader applies that backlog itself.
    reader.catch_up("t1").await.unwrap();
    assert_eq!(counted(&store).await, [(1, 1), (2, 1), (3, 1)]);

    // From now on the rows are there when the append returns, with no reader step.
    store
        .append("t1", (4..=6).map(|i| event(i, "NoteAdded")).collect())
        .await
        .unwrap();
    let expected: Vec<(i64, i64)> = (1..=6).map(|seq| (seq, 1)).collect();
    assert_eq!(counted(&store).await, expected, "written with the append");
    reader.catch_up("t1").await.unwrap();
    assert_eq!(counted(&store).await, expected, "and not applied again");

    // A restarted process appends before its reader first looks at the tenant: its reader
    // must not apply those events again (after newer ones, that would undo the newer).
    let restarted = EventStore::new(db, key);
    let reader = Reader::new(&restarted, "test_counted", vec![Arc::new(Counted)]);
    restarted
        .append("t1", (7..=8).map(|i| event(i, "NoteAdded")).collect())
        .await
        .unwrap();
    reader.catch_up("t1").await.unwrap();
    let expected: Vec<(i64, i64)> = (1..=8).map(|seq| (seq, 1)).collect();
    assert_eq!(counted(&store).await, expected, "each applied once");

    // An event it cannot apply is not appended at all.
    let err = restarted
        .append("t1", vec![event(9, "Poison")])
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("a poisoned event"),
        "the error names the cause: {err}"
    );
    assert_eq!(store.head("t1").await.unwrap().unwrap().0, 8);
    assert_eq!(counted(&store).await, expected);
}

/// The relay's lease across PostgreSQL restarts (issue 13: an advisory lock was dropped by a
/// restart while its holder went on publishing, and another process took it). Two relays,
/// each on its own pool, run while the database is stopped and started twice: the spans in
/// which each may publish never overlap, the lease changes hands only through its token,
/// and every event is in the stream once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_relay_publishes_at_a_time_across_database_restarts() {
    use std::sync::{Arc, Mutex};
    let mut pg = PgServer::start().await.unwrap();
    let nats_server = NatsServer::start().await.unwrap();
    let url = pg.fresh_database().await.unwrap();
    let store_of = || async { EventStore::new(Db::connect(&url).await.unwrap(), Key::generate()) };
    let first = store_of().await;
    first.db().migrate().await.unwrap();
    let nats = Nats::connect(&NatsSettings::new(
        NatsAccess::at(&nats_server.url()),
        &Key::generate(),
    ))
    .await
    .unwrap();

    // Who may publish, from when to when, by each relay's own account.
    type Spans = Arc<Mutex<Vec<(usize, i64, tokio::time::Instant, tokio::time::Instant)>>>;
    let spans: Spans = Arc::default();
    let stop = CancellationToken::new();
    let mut relays = Vec::new();
    for who in 0..2 {
        let (store, nats, spans, stop) =
            (store_of().await, nats.clone(), spans.clone(), stop.clone());
        relays.push(tokio::spawn(async move {
            let mut fence = relay::Fence::new(&store);
            while !stop.is_cancelled() {
                let from = tokio::time::Instant::now();
                if relay::relay_once_fenced(&store, &nats, &mut fence)
                    .await
                    .is_ok()
                {
                    if let Some(until) = fence.valid_until() {
                        spans.lock().unwrap().push((who, fence.token, from, until));
                    }
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }));
    }

    let all_published = || async {
        wait_for("every event published", WAIT, || async {
            first
                .lagging(relay::CURSOR)
                .await
                .ok()?
                .is_empty()
                .then_some(())
        })
        .await
    };
    append_many(&first, &["t1", "t2"], 100).await;
    for round in ["t3", "t4"] {
        all_published().await;
        pg.stop();
        tokio::time::sleep(Duration::from_secs(2)).await;
        pg.start_again().await;
        append_many(&first, &[round], 50).await;
    }
    all_published().await;
    stop.cancel();
    for r in relays {
        r.await.unwrap();
    }

    let spans = spans.lock().unwrap().clone();
    for (i, a) in spans.iter().enumerate() {
        for b in &spans[i + 1..] {
            if a.0 != b.0 {
                let overlap = a.2 < b.3 && b.2 < a.3;
                assert!(
                    !overlap,
                    "two relays could publish at once: {a:?} and {b:?}"
                );
            }
        }
    }
    // One token belongs to one relay.
    let mut holders = std::collections::BTreeMap::new();
    for (who, token, ..) in &spans {
        assert_eq!(
            *holders.entry(*token).or_insert(*who),
            *who,
            "token {token}"
        );
    }
    let ids: std::collections::BTreeSet<String> = stream_contents(&nats)
        .await
        .into_iter()
        .map(|(e, _)| e.event_id)
        .collect();
    assert_eq!(ids.len(), 300, "every event in the stream");
    assert_eq!(stream_len(&nats).await, 300, "and each once");
}

/// A worker that is done at each run, and on its first run is enqueued again meanwhile
/// (as a campaign's sender may be, by a recipient that comes as it finds nobody waiting).
struct EnqueuedWhileRunning {
    runs: std::sync::atomic::AtomicUsize,
}

#[async_trait]
impl casewire_bus::jobs::Worker for EnqueuedWhileRunning {
    fn queue(&self) -> &'static str {
        "test.again"
    }

    async fn run(
        &self,
        store: &EventStore,
        job: &casewire_bus::jobs::Job,
    ) -> anyhow::Result<casewire_bus::jobs::Outcome> {
        if self.runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            let mut tx = store.db().writer().begin().await?;
            casewire_bus::jobs::enqueue_again(
                &mut tx,
                "test.again",
                &job.tenant_id,
                &job.id,
                &json!({}),
            )
            .await?;
            tx.commit().await?;
        }
        Ok(casewire_bus::jobs::Outcome::Done)
    }
}

#[tokio::test]
async fn a_job_enqueued_again_while_it_runs_runs_again_and_only_then_ends() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(&dir).await;
    let worker = EnqueuedWhileRunning {
        runs: Default::default(),
    };
    let mut tx = store.db().writer().begin().await.unwrap();
    casewire_bus::jobs::enqueue_again(&mut tx, "test.again", "t1", "j1", &json!({}))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let run = || casewire_bus::jobs::run_due(&store, &worker);
    assert_eq!(run().await.unwrap(), 1, "the first run");
    assert_eq!(
        run().await.unwrap(),
        1,
        "enqueued again meanwhile: it runs again"
    );
    assert_eq!(run().await.unwrap(), 0, "then it is done");
    assert_eq!(worker.runs.load(std::sync::atomic::Ordering::SeqCst), 2);
}

/// A tally whose first two `Add`s wait for each other after loading, so both decide on the
/// same state and their appends meet: the way a status callback meets the dispatcher's
/// `Accepted` on the same text.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Tally {
    total: u32,
}

#[derive(Clone, Debug)]
struct Add(u32);

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Added {
    total: u32,
}

impl cqrs_es::DomainEvent for Added {
    fn event_type(&self) -> String {
        "Added".into()
    }
    fn event_version(&self) -> String {
        "1".into()
    }
}

#[derive(Debug)]
struct NeverRefused;

impl std::fmt::Display for NeverRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("never refused")
    }
}

impl std::error::Error for NeverRefused {}

impl casewire_bus::Refusal for NeverRefused {
    fn code(&self) -> ErrorCode {
        ErrorCode::Invalid
    }
}

/// Holds the first two decisions until both are made.
static MEET: std::sync::OnceLock<tokio::sync::Barrier> = std::sync::OnceLock::new();
static DECISIONS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl cqrs_es::Aggregate for Tally {
    const TYPE: &'static str = "tally";
    type Command = Add;
    type Event = Added;
    type Error = NeverRefused;
    type Services = ();

    async fn handle(
        &mut self,
        Add(n): Add,
        _: &(),
        sink: &cqrs_es::event_sink::EventSink<Self>,
    ) -> Result<(), NeverRefused> {
        if DECISIONS.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 2 {
            MEET.get_or_init(|| tokio::sync::Barrier::new(2))
                .wait()
                .await;
        }
        let total = self.total + n;
        sink.write(Added { total }, self).await;
        Ok(())
    }

    fn apply(&mut self, Added { total }: Added) {
        self.total = total;
    }
}

/// Two commands decided on the same state at once both land: the one whose append meets the
/// other's is decided again on the new state (its total counts the other's), where an
/// aggregate loaded before (`record_on`) is refused as changed concurrently.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_whose_append_meets_another_is_decided_again_on_the_new_state() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(&dir).await;
    let add = |n| casewire_bus::record::<Tally>(&store, "t1", "a", Add(n), HashMap::new());
    let (one, two) = tokio::join!(add(1), add(10));
    one.unwrap();
    two.unwrap();
    let (tally, version) = casewire_bus::load::<Tally>(&store, "t1", "a")
        .await
        .unwrap();
    assert_eq!(
        (tally.total, version),
        (11, 2),
        "both counted, one after the other"
    );
    assert_eq!(
        DECISIONS.load(std::sync::atomic::Ordering::SeqCst),
        3,
        "one decided again"
    );

    let mut stale = (Tally { total: 0 }, 0);
    let refused = casewire_bus::record_on(&store, "t1", "a", &mut stale, Add(5), HashMap::new())
        .await
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::Conflict, "{refused:?}");
}
