use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::proc::{self, ServerProcess};

const NOT_FOUND: &str =
    "nats-server not found: run `make deps`, which installs a current one into .tools/bin";
/// infra/nats/test.conf, compiled in so the harness does not depend on the working directory.
const TEST_CONF: &str = include_str!("../../../infra/nats/test.conf");
/// Where `make deps` installs the nats-server the tests are written for (2.10 or later:
/// consumers with several filter subjects). It comes before `PATH`, which may hold Debian's 2.9.
const TOOLS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../.tools/bin");
/// Where to look after `PATH`: Debian installs nats-server in /usr/sbin, which is not on a
/// non-root user's `PATH`.
const EXTRA_DIRS: &[&str] = &["/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin"];
const READY_TIMEOUT: Duration = Duration::from_secs(30);
const PORT_ATTEMPTS: usize = 3;
/// How long [`NatsServer::restart`] keeps retrying while the old port is still taken.
const RESTART_PORT_WAIT: Duration = Duration::from_secs(10);

/// A throw-away `nats-server` with JetStream (file storage) on 127.0.0.1.
///
/// Runs `nats-server -c infra/nats/test.conf -js -a 127.0.0.1 -p PORT -m MONITOR_PORT -sd DIR`.
/// [`kill`](Self::kill) then [`restart`](Self::restart) bring it back on the same port with the
/// same store, to test durability and reconnects. Dropping the value kills the server and removes
/// the store.
pub struct NatsServer {
    // Field order matters: the process stops before the dir is removed.
    process: Option<ServerProcess>,
    bin: PathBuf,
    port: u16,
    monitor_port: u16,
    dir: TempDir,
}

impl NatsServer {
    /// Starts the server on free ports and returns once it accepts clients and its health check
    /// (which covers JetStream) answers OK, within 30 s.
    pub async fn start() -> anyhow::Result<NatsServer> {
        NatsServer::start_with("").await
    }

    /// [`start`](Self::start) with more configuration after test.conf's: an
    /// `authorization` or `tls` block, say, to test how clients sign in.
    pub async fn start_with(more_conf: &str) -> anyhow::Result<NatsServer> {
        let tools = PathBuf::from(TOOLS).join("nats-server");
        let bin = match proc::is_executable(&tools) {
            true => tools,
            false => proc::find_executable("nats-server", EXTRA_DIRS)
                .ok_or_else(|| anyhow!(NOT_FOUND))?,
        };
        let dir = tempfile::Builder::new()
            .prefix("casewire-nats-")
            .tempdir()
            .context("creating the NATS temp dir")?;
        std::fs::write(
            dir.path().join("nats.conf"),
            format!("{TEST_CONF}\n{more_conf}\n"),
        )
        .context("writing nats.conf")?;
        let mut server = NatsServer {
            process: None,
            bin,
            port: 0,
            monitor_port: 0,
            dir,
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            // Hold both listeners at once so the two ports differ.
            let client = std::net::TcpListener::bind(("127.0.0.1", 0))?;
            let monitor = std::net::TcpListener::bind(("127.0.0.1", 0))?;
            server.port = client.local_addr()?.port();
            server.monitor_port = monitor.local_addr()?.port();
            drop((client, monitor));
            match server.launch().await {
                Ok(()) => return Ok(server),
                Err(e) if is_port_clash(&e) && attempt < PORT_ATTEMPTS => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// `nats://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The client port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:MONITOR_PORT`, the monitoring endpoint (`/healthz`, `/jsz`, `/varz`...).
    pub fn monitor_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.monitor_port)
    }

    /// Kills the server with SIGKILL, as a crash would, and waits until it is gone. The store is
    /// kept for [`restart`](Self::restart). Does nothing if it is not running.
    pub fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.stop(libc::SIGKILL, Duration::from_secs(10));
        }
    }

    /// Starts the server again on the same port with the same store (killing it first if it is
    /// still running), and returns once it is ready. Panics if it cannot be brought back.
    pub async fn restart(&mut self) {
        self.kill();
        let deadline = Instant::now() + RESTART_PORT_WAIT;
        loop {
            match self.launch().await {
                Ok(()) => return,
                Err(e) if is_port_clash(&e) && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("restarting nats-server on port {}: {e:#}", self.port),
            }
        }
    }

    async fn launch(&mut self) -> anyhow::Result<()> {
        let dir = self.dir.path();
        let log = dir.join("nats.log");
        let log_start = proc::log_len(&log);
        let mut cmd = Command::new(&self.bin);
        cmd.arg("-c")
            .arg(dir.join("nats.conf"))
            .arg("-js")
            .args(["-a", "127.0.0.1"])
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-m")
            .arg(self.monitor_port.to_string())
            .arg("-sd")
            .arg(dir.join("store"))
            .current_dir(dir);
        let mut process = ServerProcess::spawn(cmd, &log, libc::SIGKILL, "TERM", dir)?;
        match wait_ready(&mut process, self.port, self.monitor_port).await {
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
}

fn is_port_clash(e: &anyhow::Error) -> bool {
    format!("{e:#}").contains("address already in use")
}

/// Bounded wait until the client port accepts connections and `/healthz` answers 200, failing
/// early if the server exits.
async fn wait_ready(
    process: &mut ServerProcess,
    port: u16,
    monitor_port: u16,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if let Some(status) = process.exited() {
            bail!("nats-server exited during startup ({status})");
        }
        let last = match TcpStream::connect(("127.0.0.1", port)).await {
            Err(e) => format!("client port {port}: {e}"),
            Ok(_) => match healthz(monitor_port).await {
                Ok(status) if status.contains(" 200 ") => return Ok(()),
                Ok(status) => format!("/healthz answered {status}"),
                Err(e) => format!("/healthz: {e:#}"),
            },
        };
        if Instant::now() >= deadline {
            bail!("nats-server on port {port} was not ready within {READY_TIMEOUT:?}: {last}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The status line of `GET /healthz` on the monitoring port. (Plain `/healthz` on 2.9 also
/// checks that JetStream's streams and consumers are current, which matters after a restart.)
async fn healthz(monitor_port: u16) -> anyhow::Result<String> {
    let request = async {
        let mut stream = TcpStream::connect(("127.0.0.1", monitor_port)).await?;
        stream
            .write_all(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        anyhow::Ok(response)
    };
    let response = tokio::time::timeout(Duration::from_secs(2), request)
        .await
        .context("timed out")??;
    let text = String::from_utf8_lossy(&response);
    Ok(text.lines().next().unwrap_or_default().to_string())
}
