//! A real browser for the console's tests: Debian's headless Chromium driven over
//! WebDriver by a throw-away `chromedriver` on loopback, with the accessibility audit
//! (axe-core, installed by `make deps`) run in the page, and screenshots saved to look at.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::proc::{self, ServerProcess};

const NOT_FOUND: &str =
    "chromedriver not found: run `make deps`, which installs Debian's chromium and chromium-driver";
const EXTRA_DIRS: &[&str] = &["/usr/bin", "/usr/lib/chromium"];
/// axe-core, as `make deps` installs it.
const AXE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../.tools/node_modules/axe-core/axe.min.js"
);
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A headless Chromium, its driver, and a client that drives it. Dropping it ends both.
pub struct Browser {
    pub client: Client,
    // Field order matters: the driver stops before its dir is removed.
    _driver: ServerProcess,
    dir: TempDir,
    /// Where screenshots go: `<target>/console-screenshots`.
    shots: PathBuf,
}

/// A violation of the accessibility audit: axe's rule, its impact, what it asks, how many
/// elements break it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Violation {
    pub id: String,
    pub impact: Option<String>,
    pub help: String,
    pub nodes: usize,
}

impl Browser {
    /// Starts chromedriver on a free port and a headless Chromium of `width` CSS pixels.
    pub async fn start(width: u32) -> anyhow::Result<Browser> {
        let bin = proc::find_executable("chromedriver", EXTRA_DIRS).context(NOT_FOUND)?;
        let dir = tempfile::Builder::new()
            .prefix("casewire-chrome-")
            .tempdir_in(proc::temp_base(false))?;
        let port = proc::free_port()?;
        let mut cmd = Command::new(&bin);
        cmd.arg(format!("--port={port}"));
        let log = dir.path().join("chromedriver.log");
        let driver = ServerProcess::spawn(cmd, &log, libc::SIGKILL, "KILL", dir.path())?;
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + READY_TIMEOUT;
        let http = reqwest::Client::new();
        loop {
            let ready = http.get(format!("{url}/status")).send().await;
            if let Ok(r) = ready {
                let status: Value = r.json().await.unwrap_or_default();
                if status["value"]["ready"] == true {
                    break;
                }
            }
            if Instant::now() > deadline {
                bail!(
                    "chromedriver did not become ready within {READY_TIMEOUT:?}\n{}",
                    proc::log_tail(&log, 0, 4096)
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = dir.path().join("profile");
        // The flags that keep Chromium off the network it would otherwise call at start.
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": find_chromium(),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-extensions",
                    format!("--user-data-dir={}", profile.display()),
                    format!("--window-size={width},1000"),
                    "--lang=en-US",
                ],
            }
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&url)
            .await
            .with_context(|| {
                format!(
                    "starting Chromium through chromedriver\n{}",
                    proc::log_tail(&log, 0, 4096)
                )
            })?;
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target")));
        let shots = target.join("console-screenshots");
        std::fs::create_dir_all(&shots)?;
        Ok(Browser {
            client,
            _driver: driver,
            dir,
            shots,
        })
    }

    /// Saves a screenshot of the whole page as `<name>.png` (the window made as tall as
    /// the page for it, then as it was), and answers its path.
    pub async fn screenshot(&self, name: &str) -> anyhow::Result<PathBuf> {
        let (width, height) = self.client.get_window_size().await?;
        let tall = self
            .client
            .execute("return document.documentElement.scrollHeight", vec![])
            .await?
            .as_u64()
            .unwrap_or(height)
            .clamp(height, 8000);
        let size = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        self.client.set_window_size(size(width), size(tall)).await?;
        let png = self.client.screenshot().await;
        self.client
            .set_window_size(size(width), size(height))
            .await?;
        let png = png?;
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// Runs axe-core's WCAG 2.1 A and AA rules on the page, and answers what fails.
    pub async fn accessibility(&self) -> anyhow::Result<Vec<Violation>> {
        let axe = std::fs::read_to_string(AXE)
            .with_context(|| format!("{AXE}: run `make deps`, which installs axe-core"))?;
        // WebDriver's scripts are not the page's: its Content-Security-Policy does not apply.
        self.client.execute(&axe, vec![]).await?;
        let found = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
                   .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length}))))
                   .catch(e => done({error: String(e)}));",
                vec![],
            )
            .await?;
        if let Some(error) = found.get("error") {
            bail!("axe-core failed: {error}");
        }
        Ok(serde_json::from_value(found)?)
    }

    /// The text of the first element `css` finds.
    pub async fn text(&self, css: &str) -> anyhow::Result<String> {
        Ok(self.client.find(Locator::Css(css)).await?.text().await?)
    }

    /// The value of the field whose id is `id` (what a person would copy from it).
    pub async fn value(&self, id: &str) -> anyhow::Result<String> {
        let field = self.client.find(Locator::Id(id)).await?;
        Ok(field.prop("value").await?.unwrap_or_default())
    }

    /// Types `value` into the field named `name`.
    pub async fn fill(&self, name: &str, value: &str) -> anyhow::Result<()> {
        let field = self
            .client
            .find(Locator::Css(&format!("[name=\"{name}\"]")))
            .await?;
        field.clear().await?;
        field.send_keys(value).await?;
        Ok(())
    }

    /// Chooses `value` for the field named `name`: an option of a list, a radio button, or a
    /// checkbox (ticked by a click).
    pub async fn choose(&self, name: &str, value: &str) -> anyhow::Result<()> {
        let field = self
            .client
            .find(Locator::Css(&format!("[name=\"{name}\"]")))
            .await?;
        if field.tag_name().await? == "select" {
            field.select_by_value(value).await?;
        } else {
            self.client
                .find(Locator::Css(&format!(
                    "[name=\"{name}\"][value=\"{value}\"]"
                )))
                .await?
                .click()
                .await?;
        }
        Ok(())
    }

    /// Clicks the button that says `label`, and waits for the page it leads to (the old
    /// page's root gone stale, the new one loaded), even when that is the same address.
    pub async fn press(&self, label: &str) -> anyhow::Result<()> {
        let old = self.client.find(Locator::Css("html")).await?;
        let button = self
            .client
            .find(Locator::XPath(&format!(
                "//button[normalize-space()=\"{label}\"]"
            )))
            .await?;
        button.click().await?;
        let deadline = Instant::now() + READY_TIMEOUT;
        while old.tag_name().await.is_ok()
            || self
                .client
                .execute("return document.readyState", vec![])
                .await?
                != "complete"
        {
            if Instant::now() > deadline {
                bail!("pressing {label:?} led to no new page within {READY_TIMEOUT:?}");
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Ok(())
    }
}

/// Chromium outlives a chromedriver killed under it: its processes are found by their
/// profile directory, which is this browser's alone, and ended too.
impl Drop for Browser {
    fn drop(&mut self) {
        let profile = self.dir.path().join("profile");
        let _ = Command::new("pkill")
            .args(["-KILL", "-f"])
            .arg(profile)
            .status();
    }
}

fn find_chromium() -> String {
    proc::find_executable("chromium", &["/usr/bin"])
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "/usr/bin/chromium".into())
}
