//! What work costs, counted rather than timed: SQL statements (every statement sqlx runs,
//! from its query log), explicit transactions the event store begins, messages sent to
//! nats-server (its own `/varz` counter), CPU time by process (this one, which runs
//! casewire, the clients and the fake Twilio; PostgreSQL's; nats-server's), and this
//! process's disk flushes (`perf stat` on the fsync system calls).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tracing::Subscriber;
use tracing_subscriber::layer::{Context, Layer};

static STATEMENTS: AtomicU64 = AtomicU64::new(0);
static COUNTING: AtomicBool = AtomicBool::new(false);

/// Counts sqlx's statement events while [`counting`] is on. Install it with [`is_statement`]
/// as its per-layer filter: when counting is off, sqlx builds no log record at all, so the
/// other measurements pay nothing for it.
pub struct StatementCounter;

/// Turns statement counting on (the texting section) or off.
pub fn counting(on: bool) {
    COUNTING.store(on, Ordering::Relaxed);
}

impl<S: Subscriber> Layer<S> for StatementCounter {
    fn on_event(&self, _: &tracing::Event<'_>, _: Context<'_, S>) {
        STATEMENTS.fetch_add(1, Ordering::Relaxed);
    }
}

pub fn is_statement(m: &tracing::Metadata<'_>) -> bool {
    COUNTING.load(Ordering::Relaxed) && m.target() == "sqlx::query"
}

/// A reading of every counter at one moment.
#[derive(Clone, Copy, Debug, Default)]
pub struct Reading {
    statements: u64,
    transactions: u64,
    bus_messages: u64,
    cpu_self: f64,
    cpu_postgres: f64,
    cpu_nats: f64,
}

/// Per unit of work, between two readings.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cost {
    pub statements: f64,
    pub transactions: f64,
    /// `None` without NATS.
    pub bus_messages: Option<f64>,
    /// CPU milliseconds.
    pub cpu_self_ms: f64,
    pub cpu_postgres_ms: Option<f64>,
    pub cpu_nats_ms: Option<f64>,
    /// fsync and fdatasync calls of this process: the embedded mode's (SQLite syncs its
    /// WAL at each commit). `None` where not counted.
    pub fsyncs: Option<f64>,
}

impl Reading {
    /// `nats_monitor`: the monitoring URL of the nats-server in use, if any.
    pub async fn now(nats_monitor: Option<&str>) -> Reading {
        let bus_messages = match nats_monitor {
            Some(url) => varz_in_msgs(url).await.unwrap_or(0),
            None => 0,
        };
        Reading {
            statements: STATEMENTS.load(Ordering::Relaxed),
            transactions: casewire_eventstore::transactions_begun(),
            bus_messages,
            cpu_self: cpu_of(|pid, _| pid == std::process::id()),
            cpu_postgres: cpu_of(|_, comm| comm == "postgres"),
            cpu_nats: cpu_of(|_, comm| comm == "nats-server"),
        }
    }

    /// What happened since `before`, divided by `units`.
    pub fn since(&self, before: &Reading, units: usize, with_nats: bool, with_pg: bool) -> Cost {
        let per = |a: f64, b: f64| (a - b) / units as f64;
        Cost {
            statements: per(self.statements as f64, before.statements as f64),
            transactions: per(self.transactions as f64, before.transactions as f64),
            bus_messages: with_nats
                .then(|| per(self.bus_messages as f64, before.bus_messages as f64)),
            cpu_self_ms: per(self.cpu_self, before.cpu_self) * 1e3,
            cpu_postgres_ms: with_pg.then(|| per(self.cpu_postgres, before.cpu_postgres) * 1e3),
            cpu_nats_ms: with_nats.then(|| per(self.cpu_nats, before.cpu_nats) * 1e3),
            fsyncs: None,
        }
    }
}

/// Counts this process's fsync and fdatasync calls with `perf stat` attached to it, from
/// [`Flushes::count`] to [`Flushes::stop`]. Nothing when perf is missing or may not trace
/// system calls here: the table then shows —.
pub struct Flushes(Option<tokio::process::Child>);

impl Flushes {
    const EVENTS: &'static str = "syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync";

    pub async fn count() -> Flushes {
        let child = tokio::process::Command::new("perf")
            .args(["stat", "-x", ",", "-e", Self::EVENTS, "-p"])
            .arg(std::process::id().to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .ok();
        // perf attaches to each of the process's threads in a moment; a bench may wait for
        // it (flushes before then would go uncounted).
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        Flushes(child)
    }

    /// The flushes counted, or `None` when they could not be.
    pub async fn stop(self) -> Option<u64> {
        let child = self.0?;
        // SAFETY: kill has no preconditions; perf prints its counts on SIGINT.
        unsafe { libc::kill(child.id()? as i32, libc::SIGINT) };
        let out = child.wait_with_output().await.ok()?;
        // CSV: count,unit,event,… ; "<not supported>" where the count would be.
        let counts: Vec<u64> = String::from_utf8_lossy(&out.stderr)
            .lines()
            .map(|l| l.split(',').collect::<Vec<_>>())
            .filter(|f| f.get(2).is_some_and(|e| e.starts_with("syscalls:")))
            .map(|f| f[0].parse().ok())
            .collect::<Option<_>>()?;
        (counts.len() == 2).then(|| counts.iter().sum())
    }
}

async fn varz_in_msgs(monitor: &str) -> anyhow::Result<u64> {
    let varz: serde_json::Value = reqwest::get(format!("{monitor}/varz"))
        .await?
        .json()
        .await?;
    Ok(varz["in_msgs"].as_u64().unwrap_or(0))
}

/// CPU seconds (user and system) of the running processes that `which` picks by pid and
/// command name, from /proc. Processes that exited meanwhile are not counted.
fn cpu_of(which: impl Fn(u32, &str) -> bool) -> f64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    let mut total = 0u64;
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ... utime stime: fields 14 and 15, counted after the ")".
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        if !which(pid, &stat[open + 1..close]) {
            continue;
        }
        let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
        let field = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        total += field(11) + field(12);
    }
    total as f64 / ticks
}
