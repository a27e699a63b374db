//! The production NATS setup as shipped: infra/nats/production.conf, unchanged, on a
//! three-node JetStream cluster on loopback (each node told its ports, name and routes on
//! its command line and its password in its environment, as a deployment does), the
//! events stream at R3 with `sync_interval: always`. Two gateways and two messaging
//! replicas text through it while the stream's leader is killed.

use std::collections::BTreeSet;
use std::time::Duration;

use casewire_e2e::texting::{twilio_tenant, ACCOUNT_A, TOKEN_A};
use casewire_e2e::{send_until_accepted as send, wait_for, Api, Casewire, PgServer};
use casewire_testkit::{FakeTwilio, NatsCluster};
use serde_json::json;

const PRODUCTION_CONF: &str = include_str!("../../../infra/nats/production.conf");
/// nats-server reads a variable's value as a configuration value: one word (a space
/// would end it), as infra/nats/production.conf says.
const PASSWORD: &str = "cluster/pass-word";
const TEXTS: usize = 40;

fn body(i: usize) -> String {
    format!("Cluster text {i}: your hearing moved")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn texts_go_once_through_a_three_node_cluster_whose_stream_leader_dies() {
    let pg = PgServer::start().await.unwrap();
    let mut cluster = NatsCluster::start(PRODUCTION_CONF, &[("NATS_APP_PASSWORD", PASSWORD)])
        .await
        .unwrap();
    // The cluster answers JetStream once its nodes agree on a meta leader, which a busy
    // machine can take a while to elect after every node says it is healthy: wait for it,
    // as a deployment's readiness would, before casewire starts on it.
    let js_of_cluster = {
        let servers: Vec<async_nats::ServerAddr> = cluster
            .nodes
            .iter()
            .map(|n| n.url().parse().unwrap())
            .collect();
        let client = async_nats::ConnectOptions::new()
            .user_and_password("casewire".into(), PASSWORD.into())
            .connect(servers)
            .await
            .unwrap();
        async_nats::jetstream::new(client)
    };
    wait_for(
        "the cluster's JetStream",
        Duration::from_secs(60),
        || async { js_of_cluster.query_account().await.ok().map(drop) },
    )
    .await;
    let db = pg.fresh_database().await.unwrap();
    let twilio = FakeTwilio::start().await;
    let password = "cluster%2Fpass-word";
    let nats_url = cluster
        .nodes
        .iter()
        .map(|n| format!("nats://casewire:{password}@127.0.0.1:{}", n.port()))
        .collect::<Vec<_>>()
        .join(",");

    let api_base = twilio.url();
    let env = [
        ("CASEWIRE_NATS_REPLICAS", "3"),
        ("CASEWIRE_TWILIO_API_BASE", api_base.as_str()),
    ];
    let gateways = [
        Casewire::serve_with("gateway", &db, &nats_url, &env).await,
        Casewire::serve_with("gateway", &db, &nats_url, &env).await,
    ];
    let with_public = [
        env[0],
        env[1],
        ("CASEWIRE_PUBLIC_URL", gateways[0].url.as_str()),
    ];
    let _services = [
        Casewire::serve_with("messaging", &db, &nats_url, &with_public).await,
        Casewire::serve_with("messaging", &db, &nats_url, &with_public).await,
        Casewire::serve_with("consent", &db, &nats_url, &env).await,
        Casewire::serve_with("case-link", &db, &nats_url, &env).await,
    ];
    let api = Api::new(&gateways[0].url);
    let (tenant, admin) =
        twilio_tenant(&api, &twilio, "Prairie Legal Aid", ACCOUNT_A, TOKEN_A).await;
    let cms = api.key(&tenant, "integration").await;
    let case = json!({"client": {"name": "Ana Díaz", "phone": "(312) 555-0100", "language": "es"}, "status": "open"});
    let (s, c) = api.put("/v1/cases/C-1", &cms, case).await;
    assert_eq!(s, 201, "{c}");

    // The stream as the services made it: three replicas, on the cluster.
    let options =
        async_nats::ConnectOptions::new().user_and_password("casewire".into(), PASSWORD.into());
    let servers: Vec<async_nats::ServerAddr> = cluster
        .nodes
        .iter()
        .map(|n| n.url().parse().unwrap())
        .collect();
    let client = options.connect(servers).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let mut stream = js
        .get_stream(casewire_events::subjects::EVENTS_STREAM)
        .await
        .unwrap();
    let info = stream.info().await.unwrap().clone();
    assert_eq!(info.config.num_replicas, 3, "{:?}", info.config);

    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let bases: Vec<String> = gateways.iter().map(|g| g.url.clone()).collect();
    let mut ids = BTreeSet::new();
    for i in 0..TEXTS / 2 {
        ids.insert(
            send(
                &http,
                &bases[i % 2],
                &cms,
                &format!("cluster-{i}"),
                &body(i),
            )
            .await,
        );
    }
    // Mid-flow, the stream's leader dies.
    let leader = stream
        .info()
        .await
        .unwrap()
        .cluster
        .clone()
        .and_then(|c| c.leader)
        .expect("the stream has a leader");
    cluster.node(&leader).expect("a node of ours").kill();
    for i in TEXTS / 2..TEXTS {
        ids.insert(
            send(
                &http,
                &bases[i % 2],
                &cms,
                &format!("cluster-{i}"),
                &body(i),
            )
            .await,
        );
    }
    assert_eq!(ids.len(), TEXTS, "each text its own id");

    // The operator sees both replicas of the gateway and of messaging.
    let (s, status) = api.get("/v1/status", casewire_e2e::OPERATOR_TOKEN).await;
    assert_eq!(s, 200, "{status}");
    let replicas = |service: &str| {
        status["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["service"] == service)
            .map(|s| s["replicas"].clone())
    };
    assert_eq!(replicas("messaging"), Some(json!(2)), "{status}");
    assert_eq!(replicas("consent"), Some(json!(1)), "{status}");

    // Every accepted text reached Twilio exactly once.
    wait_for("every text at Twilio", Duration::from_secs(90), || async {
        let sent = twilio.sent();
        (0..TEXTS)
            .all(|i| sent.iter().any(|m| m.body == body(i)))
            .then_some(())
    })
    .await;
    let sent = twilio.sent();
    for i in 0..TEXTS {
        let n = sent.iter().filter(|m| m.body == body(i)).count();
        assert_eq!(n, 1, "text {i} went {n} times");
    }

    // The chain verifies.
    let (s, v) = api.get("/v1/audit/verify", &admin).await;
    assert_eq!((s, &v["status"]), (200, &json!("intact")), "{v}");

    // The stream holds the log: every event once, no other.
    // Read through the nodes still up (this test's own client need not prove it
    // reconnects: the services did).
    let survivors: Vec<async_nats::ServerAddr> = cluster
        .nodes
        .iter()
        .filter(|n| n.name() != Some(leader.as_str()))
        .map(|n| n.url().parse().unwrap())
        .collect();
    let client = async_nats::ConnectOptions::new()
        .user_and_password("casewire".into(), PASSWORD.into())
        .connect(survivors)
        .await
        .unwrap();
    let js = async_nats::jetstream::new(client);
    assert!(
        casewire_e2e::stream_is_log(&db, &js).await,
        "the stream is the log, each event once"
    );
}
