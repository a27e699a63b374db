//! A campaign at scale (issue 14): `BENCH_RECIPIENTS` (50,000) consenting clients, each on a
//! case of their own, set over the API; then a campaign with no rate to `BENCH_SMALL`
//! (10,000) of them, one to all of them, and one to `BENCH_RATED` (3,000) of them at 100
//! segments a second. casewire runs embedded (SQLite) in this process, so the peak memory
//! (VmHWM) covers casewire and the load generator (the fake Twilio, in the process too,
//! counts the texts and keeps none); it is started
//! again at each launch and after it, so the launch's and the sending's peaks are their own.
//!
//! Figures: the time to launch (the audience picked and frozen), the time until every
//! text is queued, texts a second into the fake Twilio against the same run's baseline
//! (straight to the fake Twilio), and the rate the rated campaign held.

use std::time::{Duration, Instant};

use casewire::{Config, Mode};
use serde_json::{json, Value};

use crate::reminders::env;
use crate::texting::{self, Running};

pub struct Figures {
    pub recipients: usize,
    pub launched_in: Duration,
    pub queued_in: Duration,
    pub sent_in: Duration,
    pub baseline_per_sec: f64,
    pub rated: usize,
    pub rated_per_sec: f64,
    pub peak_rss_mib: f64,
    /// The smaller campaign's (`BENCH_SMALL` recipients) figures, then the whole one's:
    /// the process's peak memory from the launch to the last text, each.
    pub small: usize,
    pub small_sent_in: Duration,
    /// (held as the launch began, launch's peak, held as the sending began, sending's
    /// peak) of the smaller campaign, then of the whole one.
    pub small_peaks_mib: (f64, f64, f64, f64),
    pub large_peaks_mib: (f64, f64, f64, f64),
    /// What one text of the smaller campaign cost, from its launch to its last text
    /// (statements counted during it only: counting slows it a little).
    pub small_cost: crate::cost::Cost,
}

/// What one campaign took: to launch, to queue every text, to send every text; and the
/// process's peak memory meanwhile.
struct Run {
    launched_in: Duration,
    queued_in: Duration,
    sent_in: Duration,
    /// The process's peak while the launch ran; what it held when the texts began to go
    /// (memory freed by the launch is not always given back), and its peak while they went.
    launch_from_mib: f64,
    launch_peak_mib: f64,
    sending_from_mib: f64,
    sending_peak_mib: f64,
}

/// Starts the process's peak memory (VmHWM) again from what it holds now (Linux 4.0's
/// `clear_refs` 5), so that a campaign's peak is its own, not the set-up's.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Drafts and launches a campaign to `filter` with no rate, and waits until `expected`
/// more texts are at the fake Twilio.
async fn campaign(running: &Running, filter: Value, expected: usize) -> anyhow::Result<Run> {
    let Running { gw, key, .. } = running;
    let before = running.twilio.requests_count();
    let created = gw
        .call(
            reqwest::Method::POST,
            "/v1/campaigns".into(),
            key,
            plan(filter, None),
        )
        .await?;
    let id = created["id"].as_str().unwrap_or_default().to_string();
    let launch_from_mib = rss_mib();
    reset_peak();
    let start = Instant::now();
    gw.call(
        reqwest::Method::POST,
        format!("/v1/campaigns/{id}/launch"),
        key,
        json!({}),
    )
    .await?;
    let launched_in = start.elapsed();
    let launch_peak_mib = crate::reminders::peak_rss_mib();
    reset_peak();
    let sending_from_mib = rss_mib();
    let mut queued_in = None;
    let deadline = start + Duration::from_secs(3600);
    loop {
        if queued_in.is_none() {
            let c = gw
                .call(
                    reqwest::Method::GET,
                    format!("/v1/campaigns/{id}"),
                    key,
                    Value::Null,
                )
                .await?;
            if c["counts"]["pending"] == 0 {
                queued_in = Some(start.elapsed());
            }
        }
        if running.twilio.requests_count() >= before + expected {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "the campaign took over an hour");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let sent_in = start.elapsed();
    Ok(Run {
        launched_in,
        queued_in: queued_in.unwrap_or(sent_in),
        sent_in,
        launch_from_mib,
        launch_peak_mib,
        sending_from_mib,
        sending_peak_mib: crate::reminders::peak_rss_mib(),
    })
}

/// What the process holds now (VmRSS), in MiB.
fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn plan(filter: Value, rate: Option<f64>) -> Value {
    json!({
        "name": "Clinic", "kind": "announcement", "filter": filter,
        "messages": {"en": "{organization.name}: Hi {client.first_name}, free clinic Saturday 10am. Reply STOP to stop."},
        "rate": rate.map(|r| json!({"per_second": r})),
    })
}

pub async fn run() -> anyhow::Result<Figures> {
    let recipients = env("BENCH_RECIPIENTS", 50_000);
    let small = env("BENCH_SMALL", 10_000).min(recipients);
    let rated = env("BENCH_RATED", 3_000).min(recipients);
    let clients = env("BENCH_CLIENTS", texting::CLIENTS_DEFAULT);
    let baseline_per_sec = texting::direct_rate(recipients.min(20_000), clients).await?;
    let dir = tempfile::tempdir()?;
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    let running = texting::start(config, Mode::Dev).await?;
    // The peaks are casewire's (and the load's): the fake Twilio counts the texts and keeps
    // none of them.
    running.twilio.keep_counts_only();
    let Running {
        gw, key, tenant, ..
    } = &running;
    let put = reqwest::Method::PUT;
    let post = reqwest::Method::POST;
    gw.call(
        put.clone(),
        format!("/v1/tenants/{tenant}/policy"),
        key,
        json!({"quiet_hours": null, "bulk_rate": null}),
    )
    .await?;

    // The first `small` clients' cases are consumer cases (02), the rest housing (01).
    eprintln!("campaigns: {recipients} clients…");
    let tasks: Vec<_> = (0..clients)
        .map(|k| {
            let (gw, key, put) = (gw.clone(), key.clone(), put.clone());
            tokio::spawn(async move {
                for c in (k..recipients).step_by(clients) {
                    let phone = format!("+1312{:07}", 6_000_000 + c);
                    let problem = if c < small { "02" } else { "01" };
                    let case = json!({"client": {"name": format!("Client {c}"), "phone": phone}, "problem_code": problem});
                    gw.call(put.clone(), format!("/v1/cases/B-{c:06}"), &key, case)
                        .await
                        .expect("case linked");
                    gw.call(
                        put.clone(),
                        format!("/v1/consents/{phone}"),
                        &key,
                        json!({"state": "granted", "method": "intake"}),
                    )
                    .await
                    .expect("consent recorded");
                    if c % 10_000 == 0 {
                        eprintln!("campaigns: {c} clients");
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await?;
    }
    running.caught_up().await?;

    eprintln!("campaigns: launching to {small}…");
    crate::cost::counting(true);
    let before = crate::cost::Reading::now(None).await;
    let first = campaign(&running, json!({"problem_codes": ["02"]}), small).await?;
    let small_cost = crate::cost::Reading::now(None)
        .await
        .since(&before, small, false, false);
    crate::cost::counting(false);
    eprintln!("campaigns: launching to {recipients}…");
    let whole = campaign(&running, json!({}), recipients).await?;
    let sent = running.twilio.requests_count();
    anyhow::ensure!(
        sent == small + recipients,
        "{sent} texts for {small} and {recipients} recipients"
    );

    eprintln!("campaigns: {rated} at 100 segments a second…");
    let ids: Vec<String> = (0..rated).map(|c| format!("B-{c:06}")).collect();
    let campaign = gw
        .call(
            post.clone(),
            "/v1/campaigns".into(),
            key,
            plan(json!({"case_ids": ids}), Some(100.0)),
        )
        .await?;
    let id = campaign["id"].as_str().unwrap_or_default().to_string();
    gw.call(post, format!("/v1/campaigns/{id}/launch"), key, json!({}))
        .await?;
    let before = small + recipients;
    let deadline = Instant::now() + Duration::from_secs(3600);
    let mut first_text = None;
    let last = loop {
        let n = running.twilio.requests_count() - before;
        if n >= 1 && first_text.is_none() {
            first_text = Some((Instant::now(), n));
        }
        if n >= rated {
            break Instant::now();
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the rated campaign took over an hour"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let (t0, n0) = first_text.unwrap_or((last, 0));
    let rated_per_sec = (rated - n0) as f64 / (last - t0).as_secs_f64();
    let peak_rss_mib = crate::reminders::peak_rss_mib();
    running.stop().await;
    Ok(Figures {
        recipients,
        launched_in: whole.launched_in,
        queued_in: whole.queued_in,
        sent_in: whole.sent_in,
        baseline_per_sec,
        rated,
        rated_per_sec,
        peak_rss_mib,
        small,
        small_sent_in: first.sent_in,
        small_peaks_mib: (
            first.launch_from_mib,
            first.launch_peak_mib,
            first.sending_from_mib,
            first.sending_peak_mib,
        ),
        large_peaks_mib: (
            whole.launch_from_mib,
            whole.launch_peak_mib,
            whole.sending_from_mib,
            whole.sending_peak_mib,
        ),
        small_cost,
    })
}

pub fn print(f: &Figures) {
    println!("{}", "-".repeat(100));
    println!("A campaign to {} clients, embedded (SQLite)", f.recipients);
    let per_sec = f.recipients as f64 / f.sent_in.as_secs_f64();
    println!(
        "  launch (audience picked and frozen)     {:>8.1} s",
        f.launched_in.as_secs_f64()
    );
    println!(
        "  every text queued                       {:>8.1} s",
        f.queued_in.as_secs_f64()
    );
    println!(
        "  every text at the fake Twilio           {:>8.1} s   {per_sec:.0} texts/s ({:.2}× the baseline's {:.0}/s)",
        f.sent_in.as_secs_f64(),
        per_sec / f.baseline_per_sec,
        f.baseline_per_sec
    );
    println!(
        "  {} texts at 100 segments/s            {:>8.1} texts/s ({:+.1}% of the rate)",
        f.rated,
        f.rated_per_sec,
        (f.rated_per_sec / 100.0 - 1.0) * 100.0
    );
    println!(
        "  {} recipients: every text sent in       {:>8.1} s   {:.0} texts/s",
        f.small,
        f.small_sent_in.as_secs_f64(),
        f.small as f64 / f.small_sent_in.as_secs_f64()
    );
    println!(
        "  {} recipients, per text: {:.1} statements, {:.2} transactions, {:.2} ms of CPU",
        f.small, f.small_cost.statements, f.small_cost.transactions, f.small_cost.cpu_self_ms
    );
    for (n, (before, launch, from, sending)) in [
        (f.small, f.small_peaks_mib),
        (f.recipients, f.large_peaks_mib),
    ] {
        println!(
            "  memory, {n} recipients: the launch from {before:.0} to a peak of {launch:.0} MiB; the sending from {from:.0} to a peak of {sending:.0} MiB"
        );
    }
    println!(
        "  peak memory of the whole run (set-up included)  {:>6.0} MiB",
        f.peak_rss_mib
    );
}
