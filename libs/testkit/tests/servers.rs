//! Starts the real servers and talks to them.

use std::time::Duration;

use async_nats::jetstream::{self, stream};
use casewire_testkit::{wait_for, NatsServer, PgServer};
use sqlx::{Connection, PgConnection};

#[tokio::test]
async fn postgres_fresh_databases_are_empty_usable_and_distinct() {
    let pg = PgServer::start().await.expect("start postgres");
    assert_eq!(
        pg.url(),
        format!("postgres://casewire@127.0.0.1:{}/postgres", pg.port())
    );

    let a = pg.fresh_database().await.expect("fresh database a");
    let b = pg.fresh_database().await.expect("fresh database b");
    assert_ne!(a, b);

    let mut conn = PgConnection::connect(&a).await.expect("connect to a");
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(one, 1);
    let superuser: bool =
        sqlx::query_scalar("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert!(superuser, "the harness user must be a superuser");
    sqlx::query("CREATE TABLE only_in_a (id int)")
        .execute(&mut conn)
        .await
        .unwrap();

    let mut conn_b = PgConnection::connect(&b).await.expect("connect to b");
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_one(&mut conn_b)
    .await
    .unwrap();
    assert_eq!(tables, 0, "a fresh database starts empty");
}

#[tokio::test]
async fn postgres_stops_on_drop() {
    let pg = PgServer::start().await.expect("start postgres");
    let url = pg.url();
    PgConnection::connect(&url).await.expect("running server");
    drop(pg);
    assert!(
        PgConnection::connect(&url).await.is_err(),
        "the server must be gone once dropped"
    );
}

#[tokio::test]
async fn nats_jetstream_messages_survive_kill_and_restart() {
    let mut nats = NatsServer::start().await.expect("start nats");
    let url = nats.url();
    assert_eq!(url, format!("nats://127.0.0.1:{}", nats.port()));

    let client = async_nats::connect(&url).await.expect("connect");
    let js = jetstream::new(client.clone());
    let mut events = js
        .get_or_create_stream(stream::Config {
            name: "EVENTS".to_string(),
            subjects: vec!["events.>".to_string()],
            storage: stream::StorageType::File,
            ..Default::default()
        })
        .await
        .expect("create stream");
    js.publish("events.sms.sent", "hello".into())
        .await
        .expect("publish")
        .await
        .expect("publish ack");
    assert_eq!(events.info().await.unwrap().state.messages, 1);

    nats.kill();
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", nats.port()))
            .await
            .is_err(),
        "killed server must not accept connections"
    );
    nats.restart().await;
    assert_eq!(nats.url(), url, "restart keeps the port");

    // A new client sees the acknowledged message...
    let fresh = jetstream::new(async_nats::connect(&url).await.expect("reconnect"));
    let mut events = fresh.get_stream("EVENTS").await.expect("stream recovered");
    assert_eq!(events.info().await.unwrap().state.messages, 1);
    let message = events.get_raw_message(1).await.expect("message 1");
    assert_eq!(message.subject.as_str(), "events.sms.sent");
    assert_eq!(&message.payload[..], b"hello");

    // ...and the old client reconnects on its own to the same port.
    let messages = wait_for(
        "the old client to reconnect",
        Duration::from_secs(10),
        || {
            let js = js.clone();
            async move {
                let mut stream = js.get_stream("EVENTS").await.ok()?;
                Some(stream.info().await.ok()?.state.messages)
            }
        },
    )
    .await;
    assert_eq!(messages, 1);
}

#[tokio::test]
async fn nats_restart_of_a_running_server_keeps_the_store() {
    let mut nats = NatsServer::start().await.expect("start nats");
    let js = jetstream::new(async_nats::connect(nats.url()).await.unwrap());
    js.get_or_create_stream(stream::Config {
        name: "KEEP".to_string(),
        subjects: vec!["keep".to_string()],
        ..Default::default()
    })
    .await
    .unwrap();
    nats.restart().await;
    let js = jetstream::new(async_nats::connect(nats.url()).await.unwrap());
    js.get_stream("KEEP").await.expect("stream kept");
}

#[tokio::test]
async fn wait_for_returns_the_first_some() {
    let mut calls = 0;
    let value = wait_for("the third call", Duration::from_secs(5), || {
        calls += 1;
        let n = calls;
        async move { (n >= 3).then_some(n) }
    })
    .await;
    assert_eq!(value, 3);
}

#[tokio::test]
#[should_panic(expected = "timed out after 50ms waiting for nothing")]
async fn wait_for_panics_on_timeout() {
    wait_for("nothing", Duration::from_millis(50), || async {
        None::<()>
    })
    .await;
}
