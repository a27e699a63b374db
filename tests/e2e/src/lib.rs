//! End-to-end harness (its tests run as the `casewire` package's integration tests): starts the real `casewire` binary as a process (embedded, or each
//! production service apart on PostgreSQL and NATS) and talks to it over HTTP.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub use casewire_testkit::{wait_for, NatsServer, PgServer};

pub mod audit;
pub mod browser;
pub mod bulk;
pub mod chaos;
pub mod consent;
pub mod console;
pub mod reminders;
pub mod roles;
pub mod suite;
pub mod texting;

pub const OPERATOR_TOKEN: &str = "test-operator-token-0123456789";
/// Base64 of 32 bytes, for the production processes of a test.
pub const MASTER_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// The `casewire` binary. The end-to-end tests are integration tests of the `casewire`
/// package, so cargo has built it, fresh, next to the `deps` folder of the running test.
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let bin = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target dir")
        .join("casewire");
    assert!(
        bin.exists(),
        "{} not found: run these tests through cargo (`make test`)",
        bin.display()
    );
    bin
}

/// A running casewire process. Killed when dropped; when the test is failing, what it
/// printed goes to the test's output, so a failure shows the process's side of it.
pub struct Casewire {
    child: Child,
    /// `http://127.0.0.1:PORT`: the gateway's API, or a service's probes (`/healthz`,
    /// `/readyz`).
    pub url: String,
    output: Arc<Mutex<String>>,
}

impl Drop for Casewire {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let output = self.output.lock().map(|o| o.clone()).unwrap_or_default();
            eprintln!("--- casewire {} printed:\n{output}--- end", self.url);
        }
    }
}

impl Casewire {
    /// `casewire dev` in `data_dir`, with the test operator token unless `env` sets one.
    pub async fn dev(data_dir: &std::path::Path, env: &[(&str, &str)]) -> Casewire {
        let mut all = vec![
            ("CASEWIRE_DATA_DIR", data_dir.to_str().unwrap()),
            ("CASEWIRE_OPERATOR_TOKEN", OPERATOR_TOKEN),
            // The tests' fake CMS listens on loopback, as an on-premises CMS would.
            ("CASEWIRE_WEBHOOK_ALLOW_PRIVATE", "true"),
        ];
        all.extend_from_slice(env);
        Casewire::start(&["dev"], &all).await
    }

    /// `casewire serve <service>` on the given PostgreSQL and NATS.
    pub async fn serve(service: &str, database_url: &str, nats_url: &str) -> Casewire {
        Casewire::serve_with(service, database_url, nats_url, &[]).await
    }

    /// `casewire serve <service>` with more environment (`env` wins).
    pub async fn serve_with(
        service: &str,
        database_url: &str,
        nats_url: &str,
        env: &[(&str, &str)],
    ) -> Casewire {
        let mut all = vec![
            ("DATABASE_URL", database_url),
            ("NATS_URL", nats_url),
            ("CASEWIRE_MASTER_KEY", MASTER_KEY),
            ("CASEWIRE_OPERATOR_TOKEN", OPERATOR_TOKEN),
            // The tests' fake CMS listens on loopback, as an on-premises CMS would.
            ("CASEWIRE_WEBHOOK_ALLOW_PRIVATE", "true"),
        ];
        all.extend_from_slice(env);
        Casewire::start(&["serve", service], &all).await
    }

    /// Starts the binary and waits (bounded) until it says it is serving.
    pub async fn start(args: &[&str], env: &[(&str, &str)]) -> Casewire {
        let mut cmd = Command::new(binary());
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "info")
            .env("CASEWIRE_HTTP_ADDR", "127.0.0.1:0")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("starting casewire");
        let output = Arc::new(Mutex::new(String::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn tokio::io::AsyncRead + Unpin + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let output = output.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stream).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let mut out = output.lock().unwrap();
                    out.push_str(&line);
                    out.push('\n');
                }
            });
        }
        let mut me = Casewire {
            child,
            url: String::new(),
            output,
        };
        let what = format!("casewire {args:?} to start");
        me.url = wait_for(&what, Duration::from_secs(60), || {
            let out = me.output();
            let exited = me.child.try_wait().ok().flatten();
            async move {
                if let Some(status) = exited {
                    panic!("casewire exited ({status}) before serving:\n{out}");
                }
                // The gateway's API, or a service's probes.
                let at = out.find("casewire listening on ")?;
                Some(
                    out[at..]
                        .lines()
                        .next()?
                        .trim_start_matches("casewire listening on ")
                        .split_whitespace()
                        .next()?
                        .to_string(),
                )
            }
        })
        .await;
        me
    }

    /// Everything the process printed so far.
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Kills the process (SIGKILL, as a crash would) and waits for it to be gone.
    pub async fn kill(&mut self) {
        self.child.kill().await.expect("killing casewire");
    }

    /// Sends SIGTERM and waits (bounded) for the exit status.
    pub async fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().expect("running") as i32;
        // SAFETY: sending a signal to our own child process.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("casewire did not stop within 30 s of SIGTERM")
            .unwrap()
    }
}

/// A small JSON client for the gateway.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    pub base: String,
}

impl Api {
    pub fn new(base: &str) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: base.to_string(),
        }
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.call_with(method, path, token, &[], body).await
    }

    /// [`Api::call`] with more headers.
    pub async fn call_with(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = (req.send().await).unwrap_or_else(|e| panic!("{method} {path}: {e:?}"));
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.call("GET", path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.call("POST", path, Some(token), Some(body)).await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.call("PUT", path, Some(token), Some(body)).await
    }

    /// A POST of raw bytes of a type (an upload).
    pub async fn upload(
        &self,
        path: &str,
        token: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(bytes)
            .send()
            .await
            .expect("request sent");
        (
            resp.status().as_u16(),
            resp.json().await.unwrap_or(Value::Null),
        )
    }

    /// A POST with an `Idempotency-Key`: (status, replayed?, body).
    pub async fn post_once(
        &self,
        path: &str,
        token: &str,
        key: &str,
        body: Value,
    ) -> (u16, bool, Value) {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("idempotency-key", key)
            .json(&body)
            .send()
            .await
            .expect("request sent");
        let replayed = resp.headers().get("idempotent-replayed").is_some();
        (
            resp.status().as_u16(),
            replayed,
            resp.json().await.unwrap_or(Value::Null),
        )
    }

    /// Adds an API key of `role` to a tenant (with the operator token).
    pub async fn key(&self, tenant: &str, role: &str) -> String {
        let (s, k) = self
            .post(
                &format!("/v1/tenants/{tenant}/api-keys"),
                OPERATOR_TOKEN,
                serde_json::json!({"name": role, "role": role}),
            )
            .await;
        assert_eq!(s, 201, "{k}");
        k["key"].as_str().unwrap().to_string()
    }

    /// Polls `GET path` (bounded) until `ready` accepts the answer.
    pub async fn wait_get(
        &self,
        what: &str,
        path: &str,
        token: &str,
        ready: impl Fn(&Value) -> bool,
    ) -> Value {
        wait_for(what, Duration::from_secs(30), || async {
            let (s, v) = self.get(path, token).await;
            (s == 200 && ready(&v)).then_some(v)
        })
        .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> (u16, Value) {
        self.call("DELETE", path, Some(token), None).await
    }

    /// Waits (bounded) until all four services answer `GET /v1/status` with every projection
    /// at the head of the log and no job due: the events reached each of them (over NATS in
    /// production) and the work they made is done.
    pub async fn wait_until_every_service_is_caught_up(&self) {
        wait_for(
            "every service to be caught up",
            Duration::from_secs(30),
            || async {
                let (s, status) = self.get("/v1/status", OPERATOR_TOKEN).await;
                assert_eq!(s, 200, "{status}");
                casewire_contract::ServiceStatus::all_idle(&status).then_some(())
            },
        )
        .await;
    }

    /// Creates a tenant and an API key of `role` for it: (tenant id, key).
    /// A tenant with an admin key, texting through the sandbox (in either mode).
    pub async fn sandbox_tenant(&self, name: &str) -> (String, String) {
        let (tenant, admin) = self.tenant_with_key(name, "admin").await;
        let (s, p) = self
            .put(
                &format!("/v1/tenants/{tenant}/sms-provider"),
                &admin,
                serde_json::json!({"kind": "sandbox"}),
            )
            .await;
        assert_eq!(s, 200, "{p}");
        (tenant, admin)
    }

    pub async fn tenant_with_key(&self, name: &str, role: &str) -> (String, String) {
        let (s, t) = self
            .post(
                "/v1/tenants",
                OPERATOR_TOKEN,
                serde_json::json!({"name": name, "timezone": "America/Chicago"}),
            )
            .await;
        assert_eq!(s, 201, "{t}");
        let id = t["id"].as_str().unwrap().to_string();
        let (s, k) = self
            .post(
                &format!("/v1/tenants/{id}/api-keys"),
                OPERATOR_TOKEN,
                serde_json::json!({"name": "test", "role": role}),
            )
            .await;
        assert_eq!(s, 201, "{k}");
        (id, k["key"].as_str().unwrap().to_string())
    }
}

/// Asserts the API's error shape and code.
pub fn assert_error(status: u16, body: &Value, expected_status: u16, code: &str) {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

/// [`assert_error`], and the message says `says`: the part a user reads to mend the request.
pub fn assert_error_says(status: u16, body: &Value, expected_status: u16, code: &str, says: &str) {
    assert_error(status, body, expected_status, code);
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains(says)),
        "the error should say {says:?}: {body}"
    );
}

/// How many events of `event_type` the log holds: what a compliance officer would find.
pub async fn events_of_type(database_url: &str, event_type: &str) -> i64 {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database_url).await.unwrap();
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM events WHERE event_type = $1")
        .bind(event_type)
        .fetch_one(&pool)
        .await
        .unwrap();
    n
}

/// Waits (bounded) until the fake Twilio has been asked to send at least `n` texts to `to`,
/// and returns all their bodies, oldest first.
pub async fn texts_to(twilio: &casewire_testkit::FakeTwilio, to: &str, n: usize) -> Vec<String> {
    wait_for(
        &format!("{n} texts to {to}"),
        Duration::from_secs(20),
        || async {
            let bodies: Vec<String> = twilio
                .sent()
                .into_iter()
                .filter(|m| m.to == to)
                .map(|m| m.body)
                .collect();
            (bodies.len() >= n).then_some(bodies)
        },
    )
    .await
}

/// Sends a text to case C-1 until casewire accepts it, as a CMS would: again after a 503, a
/// refused or dropped connection, with the same key (bounded). Its id.
pub async fn send_until_accepted(
    http: &reqwest::Client,
    base: &str,
    cms: &str,
    key: &str,
    body: &str,
) -> String {
    wait_for(
        &format!("{key} to be accepted"),
        Duration::from_secs(120),
        || async {
            let answer = http
                .post(format!("{base}/v1/cases/C-1/messages"))
                .bearer_auth(cms)
                .header("idempotency-key", key)
                .json(&serde_json::json!({ "body": body }))
                .send()
                .await
                .ok()?;
            if answer.status().as_u16() != 202 {
                return None;
            }
            let text: Value = answer.json().await.ok()?;
            Some(text["id"].as_str()?.to_string())
        },
    )
    .await
}

/// The events stream (libs/events/src/subjects.rs).
const STREAM: &str = "CASEWIRE_EVENTS";

/// Every event of the log in the stream, once, and nothing else, once both are still:
/// work a killed process had leased (a job) is done by another when the lease ends, and
/// appends more, so the two are compared until they agree, within a bound.
pub async fn stream_is_log(db: &str, js: &async_nats::jetstream::Context) -> bool {
    let pool = sqlx::PgPool::connect(db).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let logged: BTreeSet<String> =
            sqlx::query_scalar::<_, String>("SELECT event_id FROM events")
                .fetch_all(&pool)
                .await
                .unwrap()
                .into_iter()
                .collect();
        let streamed = stream_ids(js).await.unwrap_or_default();
        let unique: BTreeSet<String> = streamed.iter().cloned().collect();
        if unique.len() != streamed.len() {
            eprintln!("an event twice in the stream");
            return false;
        }
        if unique == logged {
            return true;
        }
        if Instant::now() >= deadline {
            eprintln!(
                "the stream holds {} events, {} not in the log; the log {}, {} not in the stream",
                unique.len(),
                unique.difference(&logged).count(),
                logged.len(),
                logged.difference(&unique).count()
            );
            return false;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The event ids of the stream's messages, in stream order; `None` while NATS cannot say.
async fn stream_ids(js: &async_nats::jetstream::Context) -> Option<Vec<String>> {
    let mut stream = js.get_stream(STREAM).await.ok()?;
    let state = stream.info().await.ok()?.state.clone();
    let mut ids = Vec::new();
    for seq in state.first_sequence..=state.last_sequence {
        let m = stream.get_raw_message(seq).await.ok()?;
        let e: Value = serde_json::from_slice(&m.payload).ok()?;
        ids.push(e["event_id"].as_str()?.to_string());
    }
    Some(ids)
}

/// Every text column of every table of the database that holds `text` somewhere, as
/// `table.column`: to show that nothing readable of an erased client is left.
pub async fn database_holds(database_url: &str, text: &str) -> Vec<String> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database_url).await.unwrap();
    let columns: Vec<(String, String)> = if database_url.starts_with("postgres") {
        sqlx::query_as(
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
             WHERE table_schema = 'public' AND data_type IN ('text', 'character varying')",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
    } else {
        let tables: Vec<(String,)> =
            sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'table'")
                .fetch_all(&pool)
                .await
                .unwrap();
        let mut columns = Vec::new();
        for (table,) in tables {
            let of: Vec<(String, String)> =
                sqlx::query_as("SELECT name, type FROM pragma_table_info($1)")
                    .bind(&table)
                    .fetch_all(&pool)
                    .await
                    .unwrap();
            columns.extend(
                of.into_iter()
                    .filter(|(_, t)| t.eq_ignore_ascii_case("text") || t.is_empty())
                    .map(|(c, _)| (table.clone(), c)),
            );
        }
        columns
    };
    let mut found = Vec::new();
    for (table, column) in columns {
        let (n,): (i64,) = sqlx::query_as(&format!(
            "SELECT COUNT(*) FROM \"{table}\" WHERE CAST(\"{column}\" AS TEXT) LIKE $1"
        ))
        .bind(format!("%{text}%"))
        .fetch_one(&pool)
        .await
        .unwrap();
        if n > 0 {
            found.push(format!("{table}.{column}"));
        }
    }
    pool.close().await;
    found
}
