//! The event store's behaviour, run on SQLite and on a real PostgreSQL server.

use casewire_crypto::Key;
use casewire_events::RecordedEvent;
use casewire_events::Sealed;
use casewire_eventstore::{
    Anchor, Backend, Db, EventStore, Fault, NewEvent, StoreError, Verification,
};
use casewire_testkit::PgServer;
use serde_json::{json, Value};

/// Keeps the database alive for the test's length.
enum Guard {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres(#[allow(dead_code)] PgServer),
}

async fn sqlite() -> (EventStore, Guard) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::sqlite_file(&dir.path().join("log.db")).await.unwrap();
    db.migrate().await.unwrap();
    (EventStore::new(db, Key::generate()), Guard::Sqlite(dir))
}

async fn postgres() -> (EventStore, Guard) {
    let pg = PgServer::start().await.expect("start PostgreSQL");
    let db = Db::connect(&pg.fresh_database().await.unwrap())
        .await
        .unwrap();
    db.migrate().await.unwrap();
    (EventStore::new(db, Key::generate()), Guard::Postgres(pg))
}

/// Runs a scenario on both backends, as two tests.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite { $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { let (s, _g) = super::sqlite().await; super::$name(s).await } )* }
        mod on_postgres { $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { let (s, _g) = super::postgres().await; super::$name(s).await } )* }
    };
}

on_both!(
    appends_are_chained_and_read_back_in_order,
    concurrent_appends_to_one_aggregate_have_one_winner,
    many_writers_on_one_tenant_keep_a_gapless_chain,
    tenants_have_separate_chains,
    the_database_refuses_to_change_events,
    verification_finds_a_changed_event,
    verification_finds_a_deleted_event,
    verification_finds_reordered_events,
    verification_finds_a_forged_event_past_the_head,
    verification_finds_a_log_whose_head_was_deleted_with_its_last_event,
    verification_of_a_tenant_that_does_not_exist_is_an_error,
    an_anchor_catches_a_rewrite_that_moved_the_head,
    sealed_bodies_are_not_in_the_rows_and_read_as_erased_after_erasure,
);

fn event(aggregate_id: &str, sequence: i64, payload: Value) -> NewEvent {
    NewEvent {
        aggregate_type: "case".into(),
        aggregate_id: aggregate_id.into(),
        sequence,
        event_type: "NoteAdded".into(),
        event_version: "1".into(),
        payload,
        metadata: json!({"actor": "system"}),
    }
}

async fn seed(store: &EventStore, tenant: &str, n: i64) {
    for i in 1..=n {
        store
            .append(tenant, vec![event("c1", i, json!({"n": i}))])
            .await
            .unwrap();
    }
}

fn intact(v: Verification) -> i64 {
    match v {
        Verification::Intact { events, .. } => events,
        broken => panic!("expected an intact chain, got {broken:?}"),
    }
}

fn broken_at(v: Verification) -> (i64, Fault, String) {
    match v {
        Verification::Broken { seq, fault, reason } => (seq, fault, reason),
        intact => panic!("expected a broken chain, got {intact:?}"),
    }
}

/// Alters the log behind the store's back, as a database superuser could.
async fn tamper(store: &EventStore, statements: &[&str]) {
    casewire_eventstore::tamper::tamper(store, statements)
        .await
        .unwrap()
}

async fn appends_are_chained_and_read_back_in_order(store: EventStore) {
    let written = store
        .append(
            "t1",
            vec![
                event("c1", 1, json!({"a": 1})),
                event("c1", 2, json!({"a": 2})),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        written.iter().map(|e| e.tenant_seq).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(written[0].prev_hash, "0".repeat(64));
    assert_eq!(written[1].prev_hash, written[0].hash);

    let read = store.read_aggregate("t1", "case", "c1", 0).await.unwrap();
    assert_eq!(read, written);
    assert_eq!(
        store.read_aggregate("t1", "case", "c1", 1).await.unwrap(),
        written[1..]
    );
    assert_eq!(intact(store.verify("t1", &[]).await.unwrap()), 2);
    assert_eq!(
        store.head("t1").await.unwrap(),
        Some((2, written[1].hash.clone()))
    );
}

async fn concurrent_appends_to_one_aggregate_have_one_winner(store: EventStore) {
    store
        .append("t1", vec![event("c1", 1, json!({}))])
        .await
        .unwrap();
    let (a, b) = tokio::join!(
        store.append("t1", vec![event("c1", 2, json!({"by": "a"}))]),
        store.append(
            "t1",
            vec![
                event("c1", 2, json!({"by": "b"})),
                event("c1", 3, json!({"by": "b"}))
            ]
        ),
    );
    let (winner, loser) = match (a, b) {
        (Ok(w), Err(l)) | (Err(l), Ok(w)) => (w, l),
        other => panic!("expected exactly one winner, got {other:?}"),
    };
    assert!(
        matches!(
            loser,
            StoreError::Conflict {
                expected: 2,
                actual: 2,
                ..
            }
        ),
        "{loser}"
    );
    assert!(
        loser.to_string().contains("changed concurrently"),
        "{loser}"
    );
    // The loser wrote nothing: the log holds the first event and the winner's, gapless.
    let log = store.read_log("t1", 0, 100).await.unwrap();
    assert_eq!(log.len(), 1 + winner.len());
    assert_eq!(
        intact(store.verify("t1", &[]).await.unwrap()),
        log.len() as i64
    );
}

async fn many_writers_on_one_tenant_keep_a_gapless_chain(store: EventStore) {
    let writers = (0..16).map(|w| {
        let store = store.clone();
        tokio::spawn(async move {
            for i in 1..=25 {
                store
                    .append(
                        "t1",
                        vec![event(&format!("c{w}"), i, json!({"w": w, "i": i}))],
                    )
                    .await
                    .unwrap();
            }
        })
    });
    futures::future::try_join_all(writers).await.unwrap();
    let log = store.read_log("t1", 0, 1000).await.unwrap();
    assert_eq!(
        log.iter().map(|e| e.tenant_seq).collect::<Vec<_>>(),
        (1..=400).collect::<Vec<_>>()
    );
    assert_eq!(intact(store.verify("t1", &[]).await.unwrap()), 400);
}

async fn tenants_have_separate_chains(store: EventStore) {
    seed(&store, "t1", 3).await;
    seed(&store, "t2", 2).await;
    assert_eq!(store.read_log("t2", 0, 10).await.unwrap().len(), 2);
    assert_eq!(store.read_log("t2", 0, 10).await.unwrap()[0].tenant_seq, 1);
    assert!(store
        .read_aggregate("t2", "case", "c1", 2)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(intact(store.verify("t1", &[]).await.unwrap()), 3);
    assert_eq!(intact(store.verify("t2", &[]).await.unwrap()), 2);
    assert_eq!(store.tenants().await.unwrap(), ["t1", "t2"]);
}

async fn the_database_refuses_to_change_events(store: EventStore) {
    seed(&store, "t1", 2).await;
    let mut statements = vec![
        "UPDATE events SET payload = '{}' WHERE tenant_seq = 1",
        "DELETE FROM events WHERE tenant_seq = 2",
    ];
    if store.db().backend() == Backend::Postgres {
        statements.push("TRUNCATE events");
    }
    for sql in statements {
        let err = sqlx::query(sql)
            .execute(store.db().writer())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    assert_eq!(intact(store.verify("t1", &[]).await.unwrap()), 2);
}

async fn verification_finds_a_changed_event(store: EventStore) {
    seed(&store, "t1", 5).await;
    tamper(
        &store,
        &[r#"UPDATE events SET payload = '{"n":33}' WHERE tenant_id = 't1' AND tenant_seq = 3"#],
    )
    .await;
    let (seq, fault, reason) = broken_at(store.verify("t1", &[]).await.unwrap());
    assert_eq!((seq, fault), (3, Fault::Altered), "{reason}");
}

async fn verification_finds_a_deleted_event(store: EventStore) {
    seed(&store, "t1", 5).await;
    seed(&store, "t2", 3).await;
    tamper(
        &store,
        &[
            "DELETE FROM events WHERE tenant_id = 't1' AND tenant_seq = 2",
            // A cut at the very end is caught by the head.
            "DELETE FROM events WHERE tenant_id = 't2' AND tenant_seq = 3",
        ],
    )
    .await;
    let (seq, fault, reason) = broken_at(store.verify("t1", &[]).await.unwrap());
    assert_eq!((seq, fault), (2, Fault::Missing), "{reason}");
    let (seq, fault, reason) = broken_at(store.verify("t2", &[]).await.unwrap());
    assert_eq!((seq, fault), (3, Fault::Missing), "{reason}");
}

/// Rewrites the log from `from` on, every hash recomputed.
async fn forge(
    store: &EventStore,
    prev_hash: &str,
    from: Vec<RecordedEvent>,
) -> Vec<RecordedEvent> {
    casewire_eventstore::tamper::forge(store, prev_hash, from)
        .await
        .unwrap()
}

/// The event that would come after `prev`, of the same aggregate, not yet chained.
fn after(prev: &RecordedEvent, payload: &str) -> RecordedEvent {
    RecordedEvent {
        tenant_seq: prev.tenant_seq + 1,
        event_id: format!("{}-forged", prev.event_id),
        sequence: prev.sequence + 1,
        event_type: "ConsentGranted".into(),
        payload: payload.into(),
        ..prev.clone()
    }
}

async fn move_head(store: &EventStore, tenant: &str, seq: i64, hash: &str) {
    casewire_eventstore::tamper::move_head(store, tenant, seq, hash)
        .await
        .unwrap()
}

async fn verification_finds_a_forged_event_past_the_head(store: EventStore) {
    seed(&store, "t1", 5).await;
    let log = store.read_log("t1", 0, 10).await.unwrap();
    // A consent granted as event 6, linked and hashed as casewire would, the head untouched.
    forge(
        &store,
        &log[4].hash,
        vec![after(&log[4], r#"{"granted":true}"#)],
    )
    .await;
    let (seq, fault, reason) = broken_at(store.verify("t1", &[]).await.unwrap());
    assert_eq!((seq, fault), (6, Fault::DoesNotMatchItsHead), "{reason}");
    assert!(reason.contains("past its head"), "{reason}");
}

async fn verification_finds_a_log_whose_head_was_deleted_with_its_last_event(store: EventStore) {
    seed(&store, "t1", 5).await;
    tamper(
        &store,
        &[
            "DELETE FROM events WHERE tenant_id = 't1' AND tenant_seq = 5",
            "DELETE FROM chain_heads WHERE tenant_id = 't1'",
        ],
    )
    .await;
    let (seq, fault, reason) = broken_at(store.verify("t1", &[]).await.unwrap());
    assert_eq!((seq, fault), (4, Fault::DoesNotMatchItsHead), "{reason}");
    assert!(reason.contains("no head"), "{reason}");
}

async fn verification_of_a_tenant_that_does_not_exist_is_an_error(store: EventStore) {
    seed(&store, "t1", 2).await;
    let err = store.verify("t1-typo", &[]).await.unwrap_err();
    assert!(
        matches!(err, StoreError::NoSuchTenant(ref t) if t == "t1-typo"),
        "{err}"
    );
}

async fn an_anchor_catches_a_rewrite_that_moved_the_head(store: EventStore) {
    seed(&store, "t1", 8).await;
    let log = store.read_log("t1", 0, 10).await.unwrap();
    // The officer recorded the head at 3 and at 6.
    let at = |seq: usize| Anchor {
        seq: seq as i64,
        hash: log[seq - 1].hash.clone(),
    };
    let (early, late) = (at(3), at(6));

    // Everything from event 5 rewritten, every hash recomputed, the head moved to match.
    let mut rewritten = log[4..].to_vec();
    rewritten[0].payload = r#"{"n":"rewritten"}"#.into();
    let forged = forge(&store, &log[3].hash, rewritten).await;
    move_head(&store, "t1", 8, &forged.last().unwrap().hash).await;

    assert_eq!(
        intact(store.verify("t1", &[]).await.unwrap()),
        8,
        "the rewrite is whole"
    );
    assert_eq!(
        intact(
            store
                .verify("t1", std::slice::from_ref(&early))
                .await
                .unwrap()
        ),
        8
    );
    let (seq, fault, reason) = broken_at(store.verify("t1", &[early.clone(), late]).await.unwrap());
    assert_eq!((seq, fault), (6, Fault::DoesNotMatchItsHead), "{reason}");

    // An anchor beyond the end: the log was cut after it was recorded.
    let beyond = Anchor {
        seq: 12,
        hash: "ab".repeat(32),
    };
    let (seq, fault, reason) = broken_at(store.verify("t1", &[early, beyond]).await.unwrap());
    assert_eq!((seq, fault), (9, Fault::Missing), "{reason}");
}

#[test]
fn anchors_are_read_as_seq_colon_hash() {
    let hash = "AB".repeat(32);
    assert_eq!(
        format!("12:{hash}").parse::<Anchor>().unwrap(),
        Anchor {
            seq: 12,
            hash: "ab".repeat(32)
        }
    );
    for wrong in [
        "12".to_string(),
        format!("0:{hash}"),
        format!("x:{hash}"),
        "3:abc".to_string(),
    ] {
        let err = wrong.parse::<Anchor>().unwrap_err();
        assert!(err.contains("<seq>:<hash>"), "{wrong}: {err}");
    }
}

async fn verification_finds_reordered_events(store: EventStore) {
    seed(&store, "t1", 5).await;
    // Swap the positions of events 2 and 4, keeping every row's own hash.
    tamper(
        &store,
        &[
            "UPDATE events SET tenant_seq = tenant_seq + 1000 WHERE tenant_id = 't1' AND tenant_seq IN (2, 4)",
            "UPDATE events SET tenant_seq = 4 WHERE tenant_id = 't1' AND tenant_seq = 1002",
            "UPDATE events SET tenant_seq = 2 WHERE tenant_id = 't1' AND tenant_seq = 1004",
        ],
    )
    .await;
    let (seq, fault, reason) = broken_at(store.verify("t1", &[]).await.unwrap());
    assert_eq!((seq, fault), (2, Fault::DoesNotLink), "{reason}");
}

async fn sealed_bodies_are_not_in_the_rows_and_read_as_erased_after_erasure(store: EventStore) {
    let body = Sealed::new("client:42", "Your hearing moved to Friday 9am".to_string());
    let other = Sealed::new("client:7", "See you Monday".to_string());
    store
        .append(
            "t1",
            vec![
                event("c1", 1, json!({"body": body, "direction": "outbound"})),
                event("c2", 1, json!({"body": other})),
            ],
        )
        .await
        .unwrap();

    // Not in the stored rows, nor in anything the bus would carry.
    let (payloads,): (String,) =
        sqlx::query_as("SELECT payload FROM events WHERE tenant_id = 't1' AND tenant_seq = 1")
            .fetch_one(store.db().reader())
            .await
            .unwrap();
    assert!(
        !payloads.contains("hearing"),
        "plaintext in the log: {payloads}"
    );
    assert!(
        payloads.contains("outbound"),
        "unsealed fields stay readable"
    );
    let log = store.read_log("t1", 0, 10).await.unwrap();
    for e in &log {
        assert!(!e.payload.contains("hearing") && !e.payload.contains("Monday"));
    }
    assert_eq!(
        store.recent("t1", 0, 10).as_ref(),
        Some(&log),
        "what the store keeps in memory for its readers is the log as stored, sealed"
    );

    let read = store.read_aggregate("t1", "case", "c1", 0).await.unwrap();
    let opened: Sealed<String> =
        serde_json::from_value(read[0].payload_json().unwrap()["body"].clone()).unwrap();
    assert_eq!(opened, body);
    let before = intact(store.verify("t1", &[]).await.unwrap());

    store.destroy_data_key("t1", "client:42").await.unwrap();
    let read = store.read_aggregate("t1", "case", "c1", 0).await.unwrap();
    let erased: Sealed<String> =
        serde_json::from_value(read[0].payload_json().unwrap()["body"].clone()).unwrap();
    assert_eq!(
        erased,
        Sealed::Erased {
            subject: "client:42".into()
        }
    );
    // Other subjects are untouched, and the chain holds after erasure.
    let read = store.read_aggregate("t1", "case", "c2", 0).await.unwrap();
    assert!(read[0].payload.contains("See you Monday"));
    assert_eq!(intact(store.verify("t1", &[]).await.unwrap()), before);
    // Nothing new can be sealed for an erased subject.
    let err = store
        .append("t1", vec![event("c1", 2, json!({"body": body}))])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::SubjectErased(_)), "{err}");
}

#[tokio::test]
async fn a_sealed_field_does_not_open_in_another_tenant() {
    let (store, _g) = sqlite().await;
    store
        .append(
            "t1",
            vec![event(
                "c1",
                1,
                json!({"body": Sealed::new("client:1", "secret")}),
            )],
        )
        .await
        .unwrap();
    let row = &store.read_log("t1", 0, 1).await.unwrap()[0];
    // t2 has no key for this subject: the field reads as erased, never as plaintext.
    let v = store.open_payload("t2", &row.payload).await.unwrap();
    assert_eq!(v["body"]["$sealed"]["erased"], json!(true));
}

/// Two processes appending to one tenant: each finds the head moved by the other, reloads,
/// and the chain stays whole. (PostgreSQL only: the embedded SQLite mode is one process.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_appending_to_one_tenant_keep_one_chain() {
    let pg = PgServer::start().await.unwrap();
    let url = pg.fresh_database().await.unwrap();
    let key = Key::generate();
    let one = Db::connect(&url).await.unwrap();
    one.migrate().await.unwrap();
    let one = EventStore::new(one, key.clone());
    let two = EventStore::new(Db::connect(&url).await.unwrap(), key);
    let (a, b) = tokio::join!(
        async {
            for i in 1..=40 {
                one.append("t1", vec![event("a", i, json!({}))])
                    .await
                    .unwrap();
            }
        },
        async {
            for i in 1..=40 {
                two.append("t1", vec![event("b", i, json!({}))])
                    .await
                    .unwrap();
            }
        },
    );
    let ((), ()) = (a, b);
    // Both stores also agree on an aggregate the other wrote last.
    one.append("t1", vec![event("b", 41, json!({}))])
        .await
        .unwrap();
    let err = two
        .append("t1", vec![event("b", 41, json!({}))])
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { actual: 41, .. }),
        "{err}"
    );
    // And the next change of it, by the store that remembers it at 40, is no conflict: a
    // command reads the aggregate at 41 from the log, and the store checks with the log
    // rather than refuse on its own memory (a campaign paused on one replica after it was
    // launched on the other).
    two.append("t1", vec![event("c", 1, json!({}))])
        .await
        .unwrap();
    one.append("t1", vec![event("c", 2, json!({}))])
        .await
        .unwrap();
    two.append("t1", vec![event("c", 3, json!({}))])
        .await
        .unwrap();
    assert_eq!(intact(one.verify("t1", &[]).await.unwrap()), 84);
}
