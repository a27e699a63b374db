use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use sqlx::{Connection, Executor, PgConnection};
use tempfile::TempDir;

use crate::proc::{self, RunAs, ServerProcess};

const NOT_FOUND: &str = "PostgreSQL server binaries (initdb, postgres) not found: \
                         run `make deps` or `apt-get install postgresql`";
const SUPERUSER: &str = "casewire";
const READY_TIMEOUT: Duration = Duration::from_secs(30);
const PORT_ATTEMPTS: usize = 3;

/// A throw-away PostgreSQL server on 127.0.0.1, trust auth, superuser `casewire`.
///
/// Its cluster lives in a temp dir; dropping the value stops the server (immediate shutdown) and
/// removes the dir. As root it runs as the `postgres` system user, since PostgreSQL refuses root.
pub struct PgServer {
    // Held for their Drop, in this order: the process stops before the dir is removed.
    process: Option<ServerProcess>,
    port: u16,
    bindir: PathBuf,
    run_as: Option<RunAs>,
    dir: TempDir,
}

impl PgServer {
    /// Runs `initdb` in a fresh temp dir and starts `postgres` on a free port, returning once it
    /// accepts connections (at most 30 s). Binaries come from `PATH`, else from the highest
    /// `/usr/lib/postgresql/<version>/bin`.
    pub async fn start() -> anyhow::Result<PgServer> {
        let bindir = find_bindir().ok_or_else(|| anyhow!(NOT_FOUND))?;
        let run_as = RunAs::postgres_if_root()?;
        let dir = tempfile::Builder::new()
            .prefix("casewire-pg-")
            .tempdir_in(proc::temp_base(run_as.is_some()))
            .context("creating the PostgreSQL temp dir")?;
        if let Some(user) = run_as {
            std::os::unix::fs::chown(dir.path(), Some(user.uid), Some(user.gid))
                .with_context(|| format!("chown {} to the postgres user", dir.path().display()))?;
        }
        let data = dir.path().join("data");

        let mut initdb = Command::new(bindir.join("initdb"));
        initdb
            .arg("-D")
            .arg(&data)
            .args(["-A", "trust", "-U", SUPERUSER, "-E", "UTF8", "--no-locale"])
            // Skips only initdb's own final fsync; the server keeps fsync on.
            .arg("--no-sync")
            .current_dir(dir.path())
            .stdin(Stdio::null());
        if let Some(user) = run_as {
            user.apply(&mut initdb);
        }
        let out = tokio::process::Command::from(initdb)
            .output()
            .await
            .with_context(|| format!("running {}", bindir.join("initdb").display()))?;
        if !out.status.success() {
            bail!(
                "initdb failed ({}):\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }

        let mut server = PgServer {
            process: None,
            port: 0,
            bindir,
            run_as,
            dir,
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            server.port = proc::free_port()?;
            match server.launch().await {
                Ok(()) => return Ok(server),
                // Stop this attempt; the cluster in `dir` stays for the next one.
                Err(e)
                    if format!("{e:#}").contains("already in use") && attempt < PORT_ATTEMPTS =>
                {
                    continue
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Starts `postgres` on the cluster and port, and waits until it accepts connections.
    async fn launch(&mut self) -> anyhow::Result<()> {
        let log = self.dir.path().join("postgres.log");
        let log_start = proc::log_len(&log);
        let mut cmd = Command::new(self.bindir.join("postgres"));
        cmd.arg("-D")
            .arg(self.dir.path().join("data"))
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-c")
            .arg("listen_addresses=127.0.0.1")
            .arg("-c")
            .arg(format!(
                "unix_socket_directories={}",
                self.dir.path().display()
            ))
            .current_dir(self.dir.path());
        if let Some(user) = self.run_as {
            user.apply(&mut cmd);
        }
        // SIGQUIT is PostgreSQL's immediate shutdown: nothing here needs a checkpoint, and it
        // is what a crash leaves (recovery from the WAL at the next start).
        let mut process = ServerProcess::spawn(cmd, &log, libc::SIGQUIT, "QUIT", self.dir.path())?;
        match wait_ready(&mut process, &url_for(self.port, "postgres")).await {
            Ok(()) => {
                self.process = Some(process);
                Ok(())
            }
            Err(e) => {
                drop(process);
                bail!("{e:#}\n{}", proc::log_tail(&log, log_start, 4096))
            }
        }
    }

    /// Stops the server at once (no checkpoint: it recovers from its WAL at the next start)
    /// and keeps its data; [`start_again`](Self::start_again) brings it back.
    pub fn stop(&mut self) {
        self.process = None;
    }

    /// Starts it again on the same port with the same data, within 30 s; a port still held
    /// by the old server's sockets is tried again meanwhile.
    pub async fn start_again(&mut self) {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            match self.launch().await {
                Ok(()) => return,
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("starting PostgreSQL again on port {}: {e:#}", self.port),
            }
        }
    }

    /// `postgres://casewire@127.0.0.1:PORT/postgres`: the superuser, on the maintenance database.
    pub fn url(&self) -> String {
        self.database_url("postgres")
    }

    /// The URL of database `name` on this server, as the superuser.
    pub fn database_url(&self, name: &str) -> String {
        url_for(self.port, name)
    }

    /// The TCP port the server listens on (127.0.0.1 only).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Creates an empty database with a random name and returns its URL, so that tests can share
    /// one server and still each start from nothing.
    pub async fn fresh_database(&self) -> anyhow::Result<String> {
        let name = format!("test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::connect(&self.url())
            .await
            .with_context(|| format!("connecting to {}", self.url()))?;
        conn.execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
            .await
            .with_context(|| format!("CREATE DATABASE {name}"))?;
        conn.close().await.ok();
        Ok(self.database_url(&name))
    }
}

fn url_for(port: u16, database: &str) -> String {
    format!("postgres://{SUPERUSER}@127.0.0.1:{port}/{database}")
}

/// Bounded wait until `url` accepts connections, failing early if the server exits.
async fn wait_ready(process: &mut ServerProcess, url: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if let Some(status) = process.exited() {
            bail!("postgres exited during startup ({status})");
        }
        let last_error =
            match tokio::time::timeout(Duration::from_secs(5), PgConnection::connect(url)).await {
                Ok(Ok(conn)) => {
                    conn.close().await.ok();
                    return Ok(());
                }
                Ok(Err(e)) => e.to_string(),
                Err(_) => "connect timed out".to_string(),
            };
        if Instant::now() >= deadline {
            bail!("postgres did not accept connections on {url} within {READY_TIMEOUT:?}: {last_error}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The directory holding both `initdb` and `postgres`: the one of `initdb` in `PATH` (symlinks
/// resolved), else the highest-versioned `/usr/lib/postgresql/<version>/bin` (Debian's layout,
/// not on `PATH` by default).
fn find_bindir() -> Option<PathBuf> {
    let has_both = |dir: &Path| {
        proc::is_executable(&dir.join("initdb")) && proc::is_executable(&dir.join("postgres"))
    };
    if let Some(initdb) = proc::find_executable("initdb", &[]) {
        let real = std::fs::canonicalize(&initdb).unwrap_or(initdb);
        if let Some(dir) = real.parent().filter(|d| has_both(d)) {
            return Some(dir.to_path_buf());
        }
    }
    let mut best: Option<(Vec<u32>, PathBuf)> = None;
    for entry in std::fs::read_dir("/usr/lib/postgresql").ok()?.flatten() {
        let name = entry.file_name();
        let Some(version) = name.to_str().and_then(|v| {
            v.split('.')
                .map(|n| n.parse().ok())
                .collect::<Option<Vec<u32>>>()
        }) else {
            continue;
        };
        let bin = entry.path().join("bin");
        if has_both(&bin) && best.as_ref().is_none_or(|(v, _)| version > *v) {
            best = Some((version, bin));
        }
    }
    best.map(|(_, bin)| bin)
}
