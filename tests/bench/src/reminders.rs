//! Reminders at scale: `BENCH_APPOINTMENTS` (100,000) court dates set over the API on
//! `BENCH_CASES` (1,000) cases of consenting clients, then the clock moved past them all so
//! that every reminder comes due at once, and the scheduler and the dispatcher carry them
//! into the fake Twilio. casewire runs embedded (SQLite) in this process, so the clock it
//! moves is casewire's and the peak memory (VmHWM) covers casewire, the fake Twilio and the
//! load generator together. Then the same on PostgreSQL and NATS (`serve all`, also in this
//! process), with `BENCH_APPOINTMENTS_DISTRIBUTED` (10,000) court dates: a rate, measured on
//! fewer so that `make bench` stays short.
//!
//! The baseline, measured in the same run: the same number of texts sent straight to the
//! fake Twilio at the same concurrency (texting.rs).

use std::time::{Duration, Instant};

use casewire::{Config, Mode, Service};
use casewire_testkit::{NatsServer, PgServer};
use serde_json::json;

use crate::texting::{self, Running};

/// A count from the environment, else `default`.
pub(crate) fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub struct Figures {
    pub mode: &'static str,
    pub appointments: usize,
    pub cases: usize,
    pub scheduled_in: Duration,
    pub dispatched_in: Duration,
    pub baseline_per_sec: f64,
    pub peak_rss_mib: f64,
}

/// The process's peak resident memory, in MiB.
pub(crate) fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Both modes; the peak memory is the process's after both.
pub async fn run() -> anyhow::Result<Vec<Figures>> {
    let appointments = env("BENCH_APPOINTMENTS", 100_000);
    let clients = env("BENCH_CLIENTS", texting::CLIENTS_DEFAULT);
    let baseline_per_sec = texting::direct_rate(appointments.min(20_000), clients).await?;
    let dir = tempfile::tempdir()?;
    let embedded = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    let mut figures = vec![
        measure(
            "embedded, SQLite",
            embedded,
            Mode::Dev,
            appointments,
            baseline_per_sec,
        )
        .await?,
    ];
    let (pg, nats) = (PgServer::start().await?, NatsServer::start().await?);
    let distributed = Config {
        database_url: Some(casewire::config::Secret::new(pg.fresh_database().await?)),
        nats_url: Some(casewire::config::Secret::new(nats.url())),
        ..Config::default()
    };
    let appointments = env("BENCH_APPOINTMENTS_DISTRIBUTED", 10_000);
    figures.push(
        measure(
            "serve all, PostgreSQL and NATS",
            distributed,
            Mode::Serve(Service::All),
            appointments,
            baseline_per_sec,
        )
        .await?,
    );
    Ok(figures)
}

async fn measure(
    mode_name: &'static str,
    config: Config,
    mode: Mode,
    appointments: usize,
    baseline_per_sec: f64,
) -> anyhow::Result<Figures> {
    let cases = env("BENCH_CASES", 1_000).min(appointments).max(1);
    let clients = env("BENCH_CLIENTS", texting::CLIENTS_DEFAULT);
    let running = texting::start(config, mode).await?;
    let Running {
        gw, key, tenant, ..
    } = &running;
    let put = reqwest::Method::PUT;
    // One reminder per court date, the day before; no quiet hours, so that all go at once.
    gw.call(
        put.clone(),
        format!("/v1/tenants/{tenant}/reminder-policy"),
        key,
        json!({"court_date": {"offsets": ["P1D"]}}),
    )
    .await?;
    gw.call(
        put.clone(),
        format!("/v1/tenants/{tenant}/policy"),
        key,
        json!({"quiet_hours": null}),
    )
    .await?;
    for c in 0..cases {
        let phone = format!("+1312{:07}", 5_000_000 + c);
        gw.call(
            put.clone(),
            format!("/v1/cases/R-{c}"),
            key,
            json!({"client": {"name": "Ana Client", "phone": phone}}),
        )
        .await?;
        gw.call(
            put.clone(),
            format!("/v1/consents/{phone}"),
            key,
            json!({"state": "granted", "method": "intake"}),
        )
        .await?;
    }

    eprintln!("reminders ({mode_name}): setting {appointments} appointments…");
    let start = Instant::now();
    // By casewire's clock, which an earlier run moved on.
    let starts_at = (casewire_events::utc_now() + chrono::Duration::days(30)).to_rfc3339();
    let tasks: Vec<_> = (0..clients)
        .map(|k| {
            let (gw, key, starts_at, put) =
                (gw.clone(), key.clone(), starts_at.clone(), put.clone());
            tokio::spawn(async move {
                for i in (k..appointments).step_by(clients) {
                    gw.call(
                        put.clone(),
                        format!("/v1/cases/R-{}/appointments/A-{i}", i % cases),
                        &key,
                        json!({"kind": "court_date", "starts_at": starts_at, "location": "Room 4B"}),
                    )
                    .await
                    .expect("appointment set");
                    if i % 10_000 == 0 {
                        eprintln!("reminders: {i} set");
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await?;
    }
    let scheduled_in = start.elapsed();

    eprintln!("reminders: 30 days later…");
    casewire_events::time::advance(chrono::Duration::days(30));
    let start = Instant::now();
    let deadline = start + Duration::from_secs(3 * 3600);
    let mut last_report = Instant::now();
    loop {
        let n = running.twilio.requests_count();
        if n >= appointments {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {n} of {appointments} reminders reached Twilio in 3 hours"
        );
        if last_report.elapsed() > Duration::from_secs(60) {
            eprintln!("reminders: {n} at Twilio");
            last_report = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let dispatched_in = start.elapsed();
    let sent = running.twilio.sent().len();
    anyhow::ensure!(
        sent == appointments,
        "{sent} reminders reached Twilio for {appointments} appointments"
    );
    let peak_rss_mib = peak_rss_mib();
    running.stop().await;
    Ok(Figures {
        mode: mode_name,
        appointments,
        cases,
        scheduled_in,
        dispatched_in,
        baseline_per_sec,
        peak_rss_mib,
    })
}

pub fn print(figures: &[Figures]) {
    let rate = |n: usize, d: Duration| n as f64 / d.as_secs_f64();
    println!("{}", "-".repeat(124));
    for f in figures {
        println!(
            "Reminders, {} court dates on {} cases, one reminder each ({})",
            f.appointments, f.cases, f.mode
        );
        println!(
            "  set over the API:            {:>8.1} s  {:>8.0} appointments/s",
            f.scheduled_in.as_secs_f64(),
            rate(f.appointments, f.scheduled_in)
        );
        let dispatched = rate(f.appointments, f.dispatched_in);
        println!(
            "  due at once, into Twilio:    {:>8.1} s  {:>8.0} reminders/s  {:.3}× the baseline ({:.0} texts/s straight to the fake Twilio)",
            f.dispatched_in.as_secs_f64(),
            dispatched,
            dispatched / f.baseline_per_sec,
            f.baseline_per_sec
        );
    }
    if let Some(f) = figures.last() {
        println!(
            "  peak memory (VmHWM, the whole process, both runs): {:.0} MiB",
            f.peak_rss_mib
        );
    }
}
