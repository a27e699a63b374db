//! The fault suite (`make chaos`; a short run inside `make test`): PostgreSQL, nats-server,
//! and casewire as separate processes (gateway, two messaging replicas, consent,
//! case-link), a fake Twilio that is slow and loses some answers, and CMS clients sending
//! texts with Idempotency-Keys, again after a 503 or a dropped connection. Meanwhile,
//! faults at random moments, each kind once in a random order before any comes twice:
//! kill -9 of a casewire process (then started again), of nats-server (down 10 s in the
//! long run, 2 s in the short), PostgreSQL stopped (20 s, 3 s). After each, a canary text
//! measures the recovery: from the kill, or from the moment NATS or PostgreSQL is back,
//! until a text sent after it is at Twilio.
//!
//! Then the checks: every accepted text reached Twilio exactly once or ended failed with a
//! reason (or `unknown`, for staff to check, never resent); the chain verifies; the stream
//! holds the log.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use casewire_testkit::{FakeTwilio, NatsServer, PgServer};
use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::texting::{twilio_tenant, ACCOUNT_A, TOKEN_A};
use crate::{send_until_accepted as send, wait_for, Api, Casewire};

/// How much load and how many faults.
#[derive(Debug, Clone)]
pub struct Plan {
    pub texts: usize,
    pub clients: usize,
    pub faults: usize,
    /// How long nats-server stays dead, and PostgreSQL stopped, when it is their turn.
    pub nats_down: Duration,
    pub pg_down: Duration,
    pub seed: u64,
}

impl Plan {
    /// `CASEWIRE_CHAOS=full` (what `make chaos` sets): 500 texts, 8 clients, 10 faults,
    /// NATS down 10 s and PostgreSQL 20 s (the outages of the review issue 13 answers);
    /// otherwise the short run of `make test`, 2 s and 3 s. `CASEWIRE_CHAOS_SEED` repeats a
    /// run.
    pub fn from_env() -> Plan {
        let seed = std::env::var("CASEWIRE_CHAOS_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| rand::thread_rng().gen());
        match std::env::var("CASEWIRE_CHAOS").as_deref() {
            Ok("full") => Plan {
                texts: 500,
                clients: 8,
                faults: 10,
                nats_down: Duration::from_secs(10),
                pg_down: Duration::from_secs(20),
                seed,
            },
            _ => Plan {
                texts: 60,
                clients: 4,
                faults: 4,
                nats_down: Duration::from_secs(2),
                pg_down: Duration::from_secs(3),
                seed,
            },
        }
    }
}

/// What a run found.
#[derive(Debug, Default)]
pub struct Report {
    pub accepted: usize,
    pub delivered_once: usize,
    pub doubled: Vec<usize>,
    pub lost: Vec<usize>,
    pub failed_with_reason: usize,
    pub unknown: usize,
    /// Not at Twilio after the bound, with an attempt begun: a process died between
    /// recording the attempt and calling Twilio, and the text waits until Twilio could no
    /// longer send it before it goes (never twice: docs/texting.md). Sent later, not lost.
    pub held: Vec<usize>,
    /// Each fault and how long until a text sent after it reached Twilio.
    pub recoveries: Vec<(String, Duration)>,
    pub chain_intact: bool,
    pub stream_is_log: bool,
}

impl Report {
    pub fn table(&self, plan: &Plan) -> String {
        let mut t = format!(
            "chaos run: {} texts, {} clients, {} faults, seed {}\n\n\
             | accepted | delivered once | doubled | lost | failed with reason | unknown | held for the lookup | chain | stream = log |\n\
             | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |\n\
             | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n\n\
             | fault | recovery |\n| --- | ---: |\n",
            plan.texts,
            plan.clients,
            plan.faults,
            plan.seed,
            self.accepted,
            self.delivered_once,
            self.doubled.len(),
            self.lost.len(),
            self.failed_with_reason,
            self.unknown,
            self.held.len(),
            if self.chain_intact { "intact" } else { "BROKEN" },
            if self.stream_is_log { "yes" } else { "NO" },
        );
        for (fault, took) in &self.recoveries {
            t.push_str(&format!("| {fault} | {:.1} s |\n", took.as_secs_f64()));
        }
        t
    }
}

const PROCESSES: &[&str] = &["gateway", "messaging", "messaging", "consent", "case-link"];

/// The casewire processes, started again as they were after a kill.
struct Fleet {
    db: String,
    nats: String,
    env: Vec<(String, String)>,
    /// The gateway keeps its address across restarts: the CMS has one.
    gateway_addr: String,
    running: Vec<Casewire>,
}

impl Fleet {
    async fn start(db: &str, nats: &str, gateway_addr: &str, env: Vec<(String, String)>) -> Fleet {
        let mut fleet = Fleet {
            db: db.into(),
            nats: nats.into(),
            env,
            gateway_addr: gateway_addr.into(),
            running: Vec::new(),
        };
        for i in 0..PROCESSES.len() {
            let p = fleet.spawn(i).await;
            fleet.running.push(p);
        }
        fleet
    }

    async fn spawn(&self, i: usize) -> Casewire {
        // The others' probes listen where they can.
        let addr = match PROCESSES[i] {
            "gateway" => self.gateway_addr.as_str(),
            _ => "127.0.0.1:0",
        };
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain([("CASEWIRE_HTTP_ADDR", addr)])
            .collect();
        Casewire::serve_with(PROCESSES[i], &self.db, &self.nats, &env).await
    }

    /// kill -9, then the same process again.
    async fn crash(&mut self, i: usize) {
        self.running[i].kill().await;
        self.running[i] = self.spawn(i).await;
    }
}

fn body(i: usize) -> String {
    format!("Chaos text {i}: call us about your hearing")
}

pub async fn run(plan: &Plan) -> Report {
    let mut pg = PgServer::start().await.unwrap();
    let mut nats = NatsServer::start().await.unwrap();
    let db = pg.fresh_database().await.unwrap();
    let twilio = Arc::new(FakeTwilio::start().await);
    twilio.slow(Duration::from_millis(20));
    // The gateway keeps its port across restarts: the CMS has one address.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let env = vec![
        ("CASEWIRE_TWILIO_API_BASE".into(), twilio.url()),
        ("CASEWIRE_PUBLIC_URL".into(), base.clone()),
    ];
    let mut fleet = Fleet::start(&db, &nats.url(), &format!("127.0.0.1:{port}"), env).await;

    let api = Api::new(&base);
    let (tenant, admin) =
        twilio_tenant(&api, &twilio, "Prairie Legal Aid", ACCOUNT_A, TOKEN_A).await;
    let cms = api.key(&tenant, "integration").await;
    let case = json!({"client": {"name": "Ana", "phone": "(312) 555-0100", "language": "en"}, "status": "open"});
    assert_eq!(api.put("/v1/cases/C-1", &cms, case).await.0, 201);

    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    // The CMS's clients.
    let next = Arc::new(AtomicUsize::new(0));
    let ids = Arc::new(Mutex::new(vec![String::new(); plan.texts]));
    let mut clients = Vec::new();
    for _ in 0..plan.clients {
        let (http, base, cms, next, ids, texts) = (
            http.clone(),
            base.clone(),
            cms.clone(),
            next.clone(),
            ids.clone(),
            plan.texts,
        );
        clients.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= texts {
                    return;
                }
                let id = send(&http, &base, &cms, &format!("chaos-{i}"), &body(i)).await;
                ids.lock().unwrap()[i] = id;
            }
        }));
    }

    // The faults, at random moments, while the clients send.
    let mut rng = rand::rngs::StdRng::seed_from_u64(plan.seed);
    let mut recoveries = Vec::new();
    // Each kind of fault once, in a random order, before any comes twice: a long run always
    // has NATS and PostgreSQL going down among its kills.
    let kinds = PROCESSES.len() + 2;
    let mut first = (0..kinds).collect::<Vec<_>>();
    rand::seq::SliceRandom::shuffle(first.as_mut_slice(), &mut rng);
    for k in 0..plan.faults {
        tokio::time::sleep(Duration::from_millis(rng.gen_range(200..1500))).await;
        twilio.lose_next_answers(1);
        // Recovery counts from the kill, or from the moment NATS or PostgreSQL is back.
        let mut at = Instant::now();
        let kind = first
            .get(k)
            .copied()
            .unwrap_or_else(|| rng.gen_range(0..kinds));
        let fault = match kind {
            p if p < PROCESSES.len() => {
                fleet.crash(p).await;
                format!("kill -9 {}", PROCESSES[p])
            }
            p if p == PROCESSES.len() => {
                nats.kill();
                tokio::time::sleep(plan.nats_down).await;
                nats.restart().await;
                at = Instant::now();
                format!("nats-server killed, {} s down", plan.nats_down.as_secs())
            }
            _ => {
                pg.stop();
                tokio::time::sleep(plan.pg_down).await;
                pg.start_again().await;
                at = Instant::now();
                format!("PostgreSQL stopped, {} s down", plan.pg_down.as_secs())
            }
        };
        let canary = format!("Canary {k}: checking in");
        send(&http, &base, &cms, &format!("canary-{k}"), &canary).await;
        let twilio = twilio.clone();
        wait_for(
            &format!("the canary after {fault} at Twilio"),
            Duration::from_secs(120),
            || async { twilio.sent().iter().any(|m| m.body == canary).then_some(()) },
        )
        .await;
        eprintln!("chaos: {fault}, recovered in {:?}", at.elapsed());
        recoveries.push((fault, at.elapsed()));
    }
    for c in clients {
        c.await.unwrap();
    }

    // Settled: each text at Twilio, or ended without it (failed with a reason, unknown),
    // within a bound; what is left is held or lost (see `held`).
    let ids = ids.lock().unwrap().clone();
    let mut report = Report {
        accepted: ids.len(),
        recoveries,
        ..Report::default()
    };
    let pool = sqlx::PgPool::connect(&db).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut open: Vec<usize> = (0..ids.len()).collect();
    while !open.is_empty() {
        let sent = twilio.sent();
        let mut still = Vec::new();
        for i in open {
            let at_twilio = sent.iter().filter(|m| m.body == body(i)).count();
            let (_, m) = api.get(&format!("/v1/messages/{}", ids[i]), &cms).await;
            let last_look = Instant::now() >= deadline;
            match (at_twilio, m["status"].as_str()) {
                (1, _) => report.delivered_once += 1,
                (0, Some("failed")) if m["error_reason"].is_string() => {
                    report.failed_with_reason += 1
                }
                (0, Some("unknown")) => report.unknown += 1,
                (0, _) if !last_look => still.push(i),
                (0, _) if held(&pool, &ids[i]).await => report.held.push(i),
                (0, _) => report.lost.push(i),
                _ => report.doubled.push(i),
            }
        }
        open = still;
        if !open.is_empty() {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    let js = async_nats::jetstream::new(async_nats::connect(nats.url()).await.unwrap());
    report.stream_is_log = crate::stream_is_log(&db, &js).await;
    let (s, v) = api.get("/v1/audit/verify", &admin).await;
    report.chain_intact = s == 200 && v["status"] == "intact";
    drop(fleet);
    report
}

/// Whether a text not at Twilio has an attempt on the record: held until its validity
/// ends, then looked up and sent (a text with none was lost).
async fn held(pool: &sqlx::PgPool, id: &str) -> bool {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM events WHERE aggregate_type = 'message' AND aggregate_id = $1 AND event_type = 'DispatchStarted'",
    )
    .bind(id)
    .fetch_one(pool)
    .await
    .unwrap();
    n > 0
}
