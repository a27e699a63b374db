//! The load benchmark of the event store (`make bench`): measured, never asserted.
//!
//! It starts a throw-away PostgreSQL (fsync on) and measures, each run on a fresh database:
//!
//! 1. **Appends per second**, one event per call (one command makes one event), with 1 writer,
//!    16 writers on one tenant and 16 writers on 16 tenants. casewire's `EventStore::append`
//!    (hash chain, one group commit per tenant) against postgres-es, the repository cqrs-es
//!    ships (no chain, no tenant), and against plain INSERTs of casewire's rows, one
//!    transaction each: the limit of this server for these rows. The chain serializes a
//!    tenant's appends; group commit is what should win that back.
//! 2. **Chain verification per second** over one tenant's 100,000 events, against reading the
//!    same rows in the same chunks without hashing (the limit: verification has to read them;
//!    it overlaps its next read with hashing, so it may come out slightly above this
//!    sequential read) and against hashing the rows already in memory (SHA-256 alone).
//!
//! 3. **Texting end to end** (texting.rs): texts accepted by the API and carried into a fake
//!    Twilio, embedded and on PostgreSQL + NATS, with POST and end-to-end latencies.
//!
//! 4. **Reminders at scale** (reminders.rs): 100,000 appointments set over the API, then all
//!    their reminders due at once and carried into a fake Twilio; time and peak memory.
//!
//! `cargo run --release -p casewire-bench -- texting` runs only the third,
//! `… -- reminders` only the fourth, `… -- audit` the trail's export, verification and
//! search at 1,000,000 (audit.rs).
//! The targets of the design are printed next to the figures. Timing lives here, never in tests.

mod appends;
mod audit;
mod campaigns;
mod contenders;
mod cost;
mod reminders;
mod report;
mod texting;
mod verify;
mod workload;

use casewire_testkit::PgServer;
use sqlx::{Connection, PgConnection};

use contenders::Kind;
use report::{Row, Section, Target};
use workload::Scenario;

const SCENARIOS: [Scenario; 3] = [
    Scenario {
        name: "1 writer, 1 tenant",
        writers: 1,
        tenants: 1,
        events_per_writer: 1000,
    },
    Scenario {
        name: "16 writers, 1 tenant",
        writers: 16,
        tenants: 1,
        events_per_writer: 250,
    },
    Scenario {
        name: "16 writers, 16 tenants",
        writers: 16,
        tenants: 16,
        events_per_writer: 250,
    },
];

/// The scenario with a target: appends ≥ 2× postgres-es with 16 writers on one tenant.
const TARGET_SCENARIO: usize = 1;
/// Rounds of every append scenario; the table shows the median.
const ROUNDS: usize = 3;
const VERIFY_EVENTS: usize = 100_000;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    install_tracing();
    let only_texting = std::env::args().any(|a| a == "texting");
    if std::env::args().any(|a| a == "reminders") {
        let figures = reminders::run().await?;
        reminders::print(&figures);
        return Ok(());
    }
    if std::env::args().any(|a| a == "audit") {
        let figures = audit::run().await?;
        audit::print(&figures);
        return Ok(());
    }
    if std::env::args().any(|a| a == "campaigns") {
        let figures = campaigns::run().await?;
        campaigns::print(&figures);
        return Ok(());
    }
    let server = PgServer::start().await?;
    let heading = heading(&server).await?;
    let mut notes = Vec::new();
    let mut sections = Vec::new();
    if !only_texting {
        sections.push(append_section(&server, &mut notes).await?);
        sections.push(verify_section(&server).await?);
    }
    eprintln!("texting: baseline, embedded, PostgreSQL + NATS…");
    let load = texting::Load::from_env();
    cost::counting(true);
    let texting = vec![
        texting::direct(load).await?,
        texting::embedded(load).await?,
        texting::distributed(&server, load).await?,
    ];
    cost::counting(false);
    eprintln!("texting: 1, 4 and 16 clients…");
    let sweep = texting::sweep(&server).await?;
    let (reminders, campaigns) = if only_texting {
        (None, None)
    } else {
        eprintln!("reminders…");
        let reminders = reminders::run().await?;
        eprintln!("campaigns…");
        (Some(reminders), Some(campaigns::run().await?))
    };
    report::print(&heading, &sections, &notes);
    texting::print(&texting, load);
    texting::print_sweep(&sweep);
    if let Some(r) = &reminders {
        reminders::print(r);
    }
    if let Some(c) = &campaigns {
        campaigns::print(c);
    }
    Ok(())
}

async fn append_section(server: &PgServer, notes: &mut Vec<String>) -> anyhow::Result<Section> {
    let mut rows = Vec::new();
    for (i, scenario) in SCENARIOS.iter().enumerate() {
        let (rates, group) = append_rates(server, scenario).await?;
        notes.push(format!(
            "casewire, {}: {group:.1} events per group commit (median)",
            scenario.name
        ));
        rows.push(Row {
            label: format!("{} ({} events)", scenario.name, scenario.total_events()),
            rates,
            target: (i == TARGET_SCENARIO).then_some(Target {
                factor: 2.0,
                baseline: 1,
            }),
        });
    }
    Ok(Section {
        title: format!("Appends/s, 1 event/call, median of {ROUNDS}"),
        columns: Kind::ALL.map(Kind::name),
        rows,
    })
}

/// Each contender's median events/s in `scenario`, and casewire's median group size. The
/// contenders take turns within a round, so that a change in the machine's load falls on all.
async fn append_rates(server: &PgServer, scenario: &Scenario) -> anyhow::Result<([f64; 3], f64)> {
    let mut rates: [Vec<f64>; 3] = Default::default();
    let mut groups = Vec::new();
    for round in 1..=ROUNDS {
        for (rates, kind) in rates.iter_mut().zip(Kind::ALL) {
            eprintln!(
                "appends, {}, round {round}: {}…",
                scenario.name,
                kind.name()
            );
            let run = appends::run(kind.start(server).await?, scenario).await?;
            rates.push(run.events_per_sec);
            groups.extend(run.events_per_commit);
        }
    }
    Ok((rates.map(median), median(groups)))
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or(f64::NAN)
}

async fn verify_section(server: &PgServer) -> anyhow::Result<Section> {
    eprintln!("verification: appending {VERIFY_EVENTS} events, then timing…");
    let rates = verify::measure(server, VERIFY_EVENTS).await?;
    Ok(Section {
        title: "Chain verification, events/s".into(),
        columns: ["verify", "read, no hash", "raw SHA-256"],
        rows: vec![Row {
            label: format!("{VERIFY_EVENTS} events, 1 tenant"),
            rates: [rates.verify, rates.read, rates.hash],
            target: Some(Target {
                factor: 0.8,
                baseline: 1,
            }),
        }],
    })
}

/// What the figures depend on: cores and how busy they are, PostgreSQL version and durability
/// settings, event size.
async fn heading(server: &PgServer) -> anyhow::Result<String> {
    let mut conn = PgConnection::connect(&server.url()).await?;
    let version = show(&mut conn, "server_version").await?;
    let fsync = show(&mut conn, "fsync").await?;
    let sync_commit = show(&mut conn, "synchronous_commit").await?;
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    // Other work on the machine shows in every figure: say how much there was.
    let load = std::fs::read_to_string("/proc/loadavg").map_or("unknown".into(), |l| {
        l.split_whitespace().next().unwrap_or("unknown").to_string()
    });
    let sample = workload::new_event(&workload::aggregate_id(0), 1);
    Ok(format!(
        "casewire-bench: {cores} cores (load average {load} at start); PostgreSQL {version} \
         (fsync {fsync}, synchronous_commit {sync_commit}); each event {} bytes of payload, {} \
         of metadata",
        sample.payload.to_string().len(),
        sample.metadata.to_string().len()
    ))
}

async fn show(conn: &mut PgConnection, setting: &str) -> anyhow::Result<String> {
    let (value,): (String,) = sqlx::query_as(&format!("SHOW {setting}"))
        .fetch_one(conn)
        .await?;
    Ok(value)
}

/// Counts every SQL statement (see cost.rs); `BENCH_LOG`, a filter such as `sqlx=debug`,
/// also prints what it selects, for looking inside a probe.
fn install_tracing() {
    use tracing::subscriber::Interest;
    use tracing_subscriber::filter::{dynamic_filter_fn, EnvFilter};
    use tracing_subscriber::prelude::*;
    let log = std::env::var("BENCH_LOG").ok().map(|filter| {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_filter(EnvFilter::new(filter))
    });
    tracing_subscriber::registry()
        .with(cost::StatementCounter.with_filter(
            // Asked at every statement, so that counting can be turned on and off.
            dynamic_filter_fn(|m, _| cost::is_statement(m)).with_callsite_filter(|m| {
                match m.target() == "sqlx::query" {
                    true => Interest::sometimes(),
                    false => Interest::never(),
                }
            }),
        ))
        .with(log)
        .init();
}
