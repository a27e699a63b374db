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
    /// A cluster node's own: its name (`NATS_SERVER_NAME`), cluster port and routes.
    node: Option<Node>,
    dir: TempDir,
}

#[derive(Clone)]
struct Node {
    name: String,
    cluster_port: u16,
    routes: String,
    env: Vec<(String, String)>,
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
        let mut server = NatsServer::prepare(&format!("{TEST_CONF}\n{more_conf}\n"))?;
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

    /// A server not started yet, with this configuration file.
    fn prepare(conf: &str) -> anyhow::Result<NatsServer> {
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
        std::fs::write(dir.path().join("nats.conf"), conf).context("writing nats.conf")?;
        Ok(NatsServer {
            process: None,
            bin,
            port: 0,
            monitor_port: 0,
            node: None,
            dir,
        })
    }

    /// The node's name in its cluster (`NATS_SERVER_NAME`), when it is one.
    pub fn name(&self) -> Option<&str> {
        self.node.as_ref().map(|n| n.name.as_str())
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
        let log_start = self.spawn()?;
        self.ready(log_start).await
    }

    /// Starts the process; [`ready`](Self::ready) waits for it. Returns where its log
    /// starts, for the error.
    fn spawn(&mut self) -> anyhow::Result<u64> {
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
            .current_dir(dir);
        match &self.node {
            // A cluster's configuration names its store (production.conf: from the
            // environment); nats-server refuses it named twice.
            Some(_) => cmd.env("NATS_STORE_DIR", dir.join("store")),
            None => cmd.arg("-sd").arg(dir.join("store")),
        };
        if let Some(node) = &self.node {
            cmd.args(["--cluster_name", "casewire"])
                .arg("--cluster")
                .arg(format!("nats://127.0.0.1:{}", node.cluster_port))
                .arg("--routes")
                .arg(&node.routes)
                .env("NATS_SERVER_NAME", &node.name)
                .envs(node.env.iter().map(|(k, v)| (k, v)));
        }
        self.process = Some(ServerProcess::spawn(cmd, &log, libc::SIGKILL, "TERM", dir)?);
        Ok(log_start)
    }

    async fn ready(&mut self, log_start: u64) -> anyhow::Result<()> {
        let log = self.dir.path().join("nats.log");
        let process = self.process.as_mut().expect("spawned");
        if let Err(e) = wait_ready(process, self.port, self.monitor_port).await {
            self.process = None;
            bail!("{e:#}\n{}", proc::log_tail(&log, log_start, 4096))
        }
        Ok(())
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

/// A JetStream cluster of three nats-servers on loopback, each started with the same
/// configuration file (infra/nats/production.conf, say) and told on its command line its
/// ports, its name and its routes, as a deployment's environment would.
pub struct NatsCluster {
    pub nodes: Vec<NatsServer>,
}

impl NatsCluster {
    /// Starts three nodes with `conf` and `env` (the variables the file names), and returns
    /// once each is ready (its `/healthz`, which needs the cluster's JetStream), within 30 s.
    pub async fn start(conf: &str, env: &[(&str, &str)]) -> anyhow::Result<NatsCluster> {
        // Hold every listener at once so that the nine ports differ.
        let listeners = (0..9)
            .map(|_| std::net::TcpListener::bind(("127.0.0.1", 0)))
            .collect::<std::io::Result<Vec<_>>>()?;
        let ports = listeners
            .iter()
            .map(|l| l.local_addr().map(|a| a.port()))
            .collect::<std::io::Result<Vec<_>>>()?;
        drop(listeners);
        let routes = (0..3)
            .map(|i| format!("nats://127.0.0.1:{}", ports[6 + i]))
            .collect::<Vec<_>>()
            .join(",");
        let mut nodes = Vec::new();
        for i in 0..3 {
            let mut node = NatsServer::prepare(conf)?;
            node.port = ports[i];
            node.monitor_port = ports[3 + i];
            node.node = Some(Node {
                name: format!("nats-{}", i + 1),
                cluster_port: ports[6 + i],
                routes: routes.clone(),
                env: env
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            });
            nodes.push(node);
        }
        let mut starts = Vec::new();
        for node in &mut nodes {
            starts.push(node.spawn()?);
        }
        for (node, log_start) in nodes.iter_mut().zip(starts) {
            node.ready(log_start).await?;
        }
        Ok(NatsCluster { nodes })
    }

    /// Every node's URL, comma separated, as `NATS_URL` lists a cluster.
    pub fn urls(&self) -> String {
        self.nodes
            .iter()
            .map(NatsServer::url)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The node named `name`.
    pub fn node(&mut self, name: &str) -> Option<&mut NatsServer> {
        self.nodes.iter_mut().find(|n| n.name() == Some(name))
    }
}
