//! Texting end to end: messages accepted by `POST /v1/cases/{id}/messages` and carried into
//! the fake Twilio, with casewire running in this process (embedded on SQLite, and
//! `serve all` on PostgreSQL and NATS JetStream). The baseline, measured in the same run,
//! is the same number of texts sent straight to the fake Twilio at the same concurrency:
//! the limit of the provider path on this machine.
//!
//! `BENCH_CLIENTS` and `BENCH_MESSAGES` change the load (16 and 2000); `BENCH_PROBE=1`
//! first times single requests (a read, a command without an append, a text), to see where
//! a text's time goes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use casewire::{Config, Mode, Service};
use casewire_sms::twilio::{Credentials, Delivery, RetryPolicy, Sender, TwilioClient};
use casewire_testkit::{FakeTwilio, NatsServer, PgServer};
use futures::StreamExt;

use crate::cost::{Cost, Flushes, Reading};
use chrono::Utc;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "bench-auth-token";
const FROM: &str = "+13125550199";
const OPERATOR: &str = "bench-operator-token-0123456789";
const MASTER_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
pub const MESSAGES_DEFAULT: usize = 2000;
pub const CLIENTS_DEFAULT: usize = 16;
/// How many texts, sent by how many concurrent clients.
#[derive(Clone, Copy, Debug)]
pub struct Load {
    pub clients: usize,
    pub messages: usize,
}

impl Load {
    /// 2,000 texts by 16 clients, unless `BENCH_CLIENTS` and `BENCH_MESSAGES` say otherwise.
    pub fn from_env() -> Load {
        let var = |name: &str, default: usize| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        Load {
            clients: var("BENCH_CLIENTS", CLIENTS_DEFAULT),
            messages: var("BENCH_MESSAGES", MESSAGES_DEFAULT),
        }
    }
}
const CASES: usize = 20;

pub struct Figures {
    pub label: String,
    /// POSTs answered 202 per second, while the clients were sending.
    pub accepted_per_sec: f64,
    pub post_p50: Duration,
    pub post_p99: Duration,
    /// Texts that reached the fake Twilio per second, from the first POST to the last arrival.
    pub delivered_per_sec: f64,
    /// From the POST to the text's arrival at the fake Twilio.
    pub e2e_p50: Duration,
    pub e2e_p99: Duration,
    /// What one text cost, from its POST to its status callback applied everywhere: `None`
    /// for the baseline.
    pub cost: Option<Cost>,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// The baseline: texts straight to the fake Twilio, `load.clients` at a time.
pub async fn direct(load: Load) -> anyhow::Result<Figures> {
    direct_with(load.messages, load.clients).await
}

/// Texts per second straight to the fake Twilio: `n` texts, `clients` at a time.
pub async fn direct_rate(n: usize, clients: usize) -> anyhow::Result<f64> {
    Ok(direct_with(n, clients).await?.delivered_per_sec)
}

async fn direct_with(messages: usize, clients: usize) -> anyhow::Result<Figures> {
    let twilio = FakeTwilio::start().await;
    twilio.account(ACCOUNT, TOKEN);
    let client = TwilioClient::new(&twilio.url()).with_retry_policy(RetryPolicy::none());
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(messages)));
    let start = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (client, latencies) = (client.clone(), latencies.clone());
            tokio::spawn(async move {
                let creds = Credentials::new(ACCOUNT, TOKEN);
                for i in (c..messages).step_by(clients) {
                    let t = Instant::now();
                    client
                        .send(
                            &creds,
                            &Sender::From(FROM.into()),
                            "+13125550100",
                            &format!("bench {i}"),
                            &Delivery::default(),
                        )
                        .await
                        .expect("the fake Twilio accepts");
                    latencies.lock().await.push(t.elapsed());
                }
            })
        })
        .collect();
    for t in tasks {
        t.await?;
    }
    let elapsed = start.elapsed();
    let mut l = latencies.lock().await.clone();
    l.sort();
    let rate = messages as f64 / elapsed.as_secs_f64();
    Ok(Figures {
        label: "straight to the fake Twilio (baseline)".into(),
        accepted_per_sec: rate,
        post_p50: percentile(&l, 0.5),
        post_p99: percentile(&l, 0.99),
        delivered_per_sec: rate,
        e2e_p50: percentile(&l, 0.5),
        e2e_p99: percentile(&l, 0.99),
        cost: None,
    })
}

pub async fn embedded(load: Load) -> anyhow::Result<Figures> {
    let dir = tempfile::tempdir()?;
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    measure(
        "casewire dev (SQLite, in-process bus)",
        config,
        Mode::Dev,
        None,
        load,
    )
    .await
}

pub async fn distributed(pg: &PgServer, load: Load) -> anyhow::Result<Figures> {
    let nats = NatsServer::start().await?;
    let db = pg.fresh_database().await?;
    let config = Config {
        database_url: Some(casewire::config::Secret::new(db)),
        nats_url: Some(casewire::config::Secret::new(nats.url())),
        ..Config::default()
    };
    measure(
        "casewire serve all (PostgreSQL, NATS)",
        config,
        Mode::Serve(Service::All),
        Some(nats.monitor_url()),
        load,
    )
    .await
}

/// casewire running in this process, with a tenant, its admin key and a fake Twilio.
pub(crate) struct Running {
    pub gw: Gateway,
    pub key: String,
    pub tenant: String,
    pub twilio: FakeTwilio,
    stop: CancellationToken,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Waits (bounded) until every service's reader is at the head of the log and no job is
    /// due: the work the load made is done.
    pub async fn caught_up(&self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let status = self
                .gw
                .call(
                    reqwest::Method::GET,
                    "/v1/status".into(),
                    OPERATOR,
                    Value::Null,
                )
                .await?;
            if casewire_contract::ServiceStatus::all_idle(&status) {
                return Ok(());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "casewire was not caught up 2 minutes after the load: {status}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn stop(self) {
        self.stop.cancel();
        let _ = self.server.await;
    }
}

pub(crate) async fn start(mut config: Config, mode: Mode) -> anyhow::Result<Running> {
    let twilio = FakeTwilio::start().await;
    twilio.account(ACCOUNT, TOKEN);
    config.twilio_api_base = twilio.url();
    config.operator_token = Some(casewire::config::Secret::new(OPERATOR.into()));
    config.master_key = Some(casewire::config::Secret::new(MASTER_KEY.into()));
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let stop = CancellationToken::new();
    let server = tokio::spawn(casewire::run(config, mode, Some(listener), stop.clone()));

    let gw = Gateway {
        http: reqwest::Client::new(),
        base,
    };
    // The gateway is up once it answers.
    let mut tenant = Err(anyhow::anyhow!("not started"));
    for _ in 0..100 {
        tenant = gw
            .call(
                reqwest::Method::POST,
                "/v1/tenants".into(),
                OPERATOR,
                json!({"name": "Bench Legal Aid", "timezone": "America/Chicago"}),
            )
            .await;
        if tenant.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let tenant = tenant?["id"].as_str().unwrap_or_default().to_string();
    let key = gw
        .call(
            reqwest::Method::POST,
            format!("/v1/tenants/{tenant}/api-keys"),
            OPERATOR,
            json!({"name": "bench", "role": "admin"}),
        )
        .await?;
    let key = key["key"].as_str().unwrap_or_default().to_string();
    gw.call(
        reqwest::Method::PUT,
        format!("/v1/tenants/{tenant}/sms-provider"),
        &key,
        json!({"kind": "twilio", "account_sid": ACCOUNT, "auth_token": TOKEN, "from": FROM}),
    )
    .await?;
    Ok(Running {
        gw,
        key,
        tenant,
        twilio,
        stop,
        server,
    })
}

async fn measure(
    label: &str,
    config: Config,
    mode: Mode,
    nats_monitor: Option<String>,
    load: Load,
) -> anyhow::Result<Figures> {
    let running = start(config, mode).await?;
    let (gw, key, twilio) = (&running.gw, &running.key, &running.twilio);
    for c in 0..CASES {
        let phone = format!("+1312555{:04}", 1000 + c);
        gw.call(
            reqwest::Method::PUT,
            format!("/v1/cases/B-{c}"),
            key,
            json!({"client": {"name": "Client", "phone": phone}}),
        )
        .await?;
    }

    if std::env::var("BENCH_PROBE").is_ok() {
        for (what, method, path, body) in [
            (
                "GET case",
                reqwest::Method::GET,
                "/v1/cases/B-0".to_string(),
                Value::Null,
            ),
            (
                "PUT same case",
                reqwest::Method::PUT,
                "/v1/cases/B-0".to_string(),
                json!({"client": {"name": "Client", "phone": "+13125551000"}}),
            ),
            (
                "POST message",
                reqwest::Method::POST,
                "/v1/cases/B-0/messages".to_string(),
                json!({"body": "probe"}),
            ),
        ] {
            for _ in 0..3 {
                let t = Instant::now();
                let _ = gw
                    .call(method.clone(), path.clone(), key, body.clone())
                    .await;
                eprintln!("probe {label}: {what} {:?}", t.elapsed());
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    }
    // This process flushes the disk only embedded (SQLite); distributed, PostgreSQL does.
    let flushes = match nats_monitor {
        None => Some(Flushes::count().await),
        Some(_) => None,
    };
    let before = Reading::now(nats_monitor.as_deref()).await;
    let sent_at = Arc::new(Mutex::new(vec![Utc::now(); load.messages]));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(load.messages)));
    let start = Instant::now();
    let first_post = Utc::now();
    let tasks: Vec<_> = (0..load.clients)
        .map(|c| {
            let (gw, key, sent_at, latencies) =
                (gw.clone(), key.clone(), sent_at.clone(), latencies.clone());
            tokio::spawn(async move {
                for i in (c..load.messages).step_by(load.clients) {
                    let t = Instant::now();
                    sent_at.lock().await[i] = Utc::now();
                    gw.call(
                        reqwest::Method::POST,
                        format!("/v1/cases/B-{}/messages", i % CASES),
                        &key,
                        json!({"body": format!("bench {i}")}),
                    )
                    .await
                    .expect("accepted");
                    latencies.lock().await.push(t.elapsed());
                }
            })
        })
        .collect();
    for t in tasks {
        t.await?;
    }
    let accepted_in = start.elapsed();
    let deadline = Instant::now() + Duration::from_secs(600);
    let benched = || {
        twilio
            .sent()
            .into_iter()
            .filter(|m| m.body.starts_with("bench "))
            .collect::<Vec<_>>()
    };
    while benched().len() < load.messages {
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {} of {} texts reached Twilio in 10 minutes",
            twilio.sent().len(),
            load.messages
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let sent = benched();
    anyhow::ensure!(
        sent.len() == load.messages,
        "{} texts reached Twilio for {} sent",
        sent.len(),
        load.messages
    );
    let sent_at = sent_at.lock().await;
    let mut e2e: Vec<Duration> = sent
        .iter()
        .map(|m| {
            let i: usize = m.body.trim_start_matches("bench ").parse().unwrap_or(0);
            (m.date_created - sent_at[i]).to_std().unwrap_or_default()
        })
        .collect();
    e2e.sort();
    let last = sent
        .iter()
        .map(|m| m.date_created)
        .max()
        .unwrap_or(first_post);
    let mut l = latencies.lock().await.clone();
    l.sort();
    // Twilio reports each text delivered; then every service takes in what happened.
    futures::stream::iter(&sent)
        .for_each_concurrent(load.clients, |m| async {
            twilio.send_status_callback(&m.sid, "delivered", None).await;
        })
        .await;
    running.caught_up().await?;
    let mut cost = Reading::now(nats_monitor.as_deref()).await.since(
        &before,
        load.messages,
        nats_monitor.is_some(),
        nats_monitor.is_some(),
    );
    if let Some(flushes) = flushes {
        cost.fsyncs = (flushes.stop().await).map(|n| n as f64 / load.messages as f64);
    }
    running.stop().await;
    Ok(Figures {
        label: label.into(),
        accepted_per_sec: load.messages as f64 / accepted_in.as_secs_f64(),
        post_p50: percentile(&l, 0.5),
        post_p99: percentile(&l, 0.99),
        delivered_per_sec: load.messages as f64 / (last - first_post).to_std()?.as_secs_f64(),
        e2e_p50: percentile(&e2e, 0.5),
        e2e_p99: percentile(&e2e, 0.99),
        cost: Some(cost),
    })
}

#[derive(Clone)]
pub(crate) struct Gateway {
    http: reqwest::Client,
    base: String,
}

impl Gateway {
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: String,
        token: &str,
        body: Value,
    ) -> anyhow::Result<Value> {
        let r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await?;
        let status = r.status();
        let body: Value = r.json().await?;
        anyhow::ensure!(status.is_success(), "{status}: {body}");
        Ok(body)
    }
}

pub fn print(rows: &[Figures], load: Load) {
    let baseline = rows.first().map_or(f64::NAN, |b| b.delivered_per_sec);
    println!("{}", "-".repeat(124));
    println!(
        "Texting, {} texts by {} clients to {CASES} cases",
        load.messages, load.clients
    );
    println!(
        "{:<42} {:>11} {:>9} {:>9} | {:>12} {:>8} {:>9} {:>9}",
        "", "accepted/s", "POST p50", "POST p99", "into Twilio/s", "ratio", "e2e p50", "e2e p99"
    );
    for r in rows {
        let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1e3);
        println!(
            "  {:<40} {:>11.0} {:>9} {:>9} | {:>12.0} {:>7.2}× {:>9} {:>9}",
            r.label,
            r.accepted_per_sec,
            ms(r.post_p50),
            ms(r.post_p99),
            r.delivered_per_sec,
            r.delivered_per_sec / baseline,
            ms(r.e2e_p50),
            ms(r.e2e_p99)
        );
    }
    println!("ratio: texts into Twilio per second divided by the baseline's (the first row).");
    println!();
    println!("Per text (POST, Twilio's acceptance, its status callback, every service caught up):");
    println!(
        "{:<42} {:>11} {:>13} {:>7} {:>13} {:>10} {:>11} {:>9}",
        "",
        "statements",
        "transactions",
        "fsyncs",
        "bus messages",
        "CPU here",
        "PostgreSQL",
        "NATS"
    );
    let opt = |v: Option<f64>, unit: &str| v.map_or("—".to_string(), |v| format!("{v:.1}{unit}"));
    for r in rows {
        let Some(c) = r.cost else { continue };
        println!(
            "  {:<40} {:>11.1} {:>13.1} {:>7} {:>13} {:>7.1} ms {:>11} {:>9}",
            r.label,
            c.statements,
            c.transactions,
            opt(c.fsyncs, ""),
            opt(c.bus_messages, ""),
            c.cpu_self_ms,
            opt(c.cpu_postgres_ms, " ms"),
            opt(c.cpu_nats_ms, " ms"),
        );
    }
    println!(
        "statements: every statement sqlx ran (on SQLite, BEGIN and COMMIT are not among them); \
         transactions: explicit ones begun; fsyncs: this process's fsync and fdatasync calls \
         (perf stat; embedded only, where casewire writes the disk itself); \
         bus messages: messages clients sent to nats-server; \
         CPU here: this process (casewire, the clients, the fake Twilio)."
    );
}

/// Texts per second as the clients grow, in both modes: does casewire use what the machine
/// has, or does something serialize it?
pub struct Sweep {
    pub clients: usize,
    pub embedded: Figures,
    pub distributed: Figures,
}

pub const SWEEP_CLIENTS: [usize; 3] = [1, 4, 16];
const SWEEP_MESSAGES: usize = 400;

pub async fn sweep(pg: &PgServer) -> anyhow::Result<Vec<Sweep>> {
    let mut rows = Vec::new();
    for clients in SWEEP_CLIENTS {
        let load = Load {
            clients,
            messages: SWEEP_MESSAGES,
        };
        rows.push(Sweep {
            clients,
            embedded: embedded(load).await?,
            distributed: distributed(pg, load).await?,
        });
    }
    Ok(rows)
}

pub fn print_sweep(rows: &[Sweep]) {
    println!();
    println!("Texts into Twilio per second as clients grow ({SWEEP_MESSAGES} texts each):");
    println!(
        "{:<10} {:>14} {:>12} {:>14} {:>12}",
        "clients", "embedded/s", "POST p50", "distributed/s", "POST p50"
    );
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1e3);
    for r in rows {
        println!(
            "{:<10} {:>14.0} {:>12} {:>14.0} {:>12}",
            r.clients,
            r.embedded.delivered_per_sec,
            ms(r.embedded.post_p50),
            r.distributed.delivered_per_sec,
            ms(r.distributed.post_p50)
        );
    }
}
