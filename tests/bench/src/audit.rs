//! The compliance officer's trail at scale (issue 15), on PostgreSQL (fsync on):
//!
//! 1. **Export and offline verification** of a 1,000,000-event tenant, in events per
//!    second, against reading the same rows a page at a time without hashing or writing
//!    (the limit: an export has to read them), and the export's size per event.
//! 2. **Search latency** over 1,000,000 texts: a rare word, a common one, two words, a
//!    case's texts, against listing the newest texts with no words (the index's baseline),
//!    on PostgreSQL (a GIN index) and on the embedded mode's SQLite (FTS5).
//!
//! `cargo run --release -p casewire-bench -- audit`; `BENCH_AUDIT_EVENTS` and
//! `BENCH_AUDIT_TEXTS` change the sizes.

use std::time::{Duration, Instant};

use casewire_audit::export::{self, Export};
use casewire_audit::search::{self, Search};
use casewire_events::review::TrailFilter;
use casewire_eventstore::{Backend, Db, EventStore};
use casewire_testkit::PgServer;

use crate::verify::{fill, median, TENANT};

pub struct Figures {
    pub events: usize,
    pub read: f64,
    pub export: f64,
    pub verify: f64,
    pub bytes_per_event: f64,
    pub texts: usize,
    /// (what, median, 95th percentile, found) on PostgreSQL, then on SQLite.
    pub searches: [Vec<Searched>; 2],
}

/// One search's figures: what, median, 95th percentile, texts found.
pub type Searched = (&'static str, Duration, Duration, usize);

fn env_size(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub async fn run() -> anyhow::Result<Figures> {
    let events = env_size("BENCH_AUDIT_EVENTS", 1_000_000);
    let texts = env_size("BENCH_AUDIT_TEXTS", 1_000_000);
    let server = PgServer::start().await?;
    let db = Db::connect(&server.fresh_database().await?).await?;
    db.migrate().await?;
    let store = EventStore::new(db, casewire_crypto::Key::generate());
    eprintln!("audit: {events} events…");
    fill(&store, events).await?;
    let keys = casewire_audit::checkpoint::keys(&store, "casewire.bench").await?;
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("export.jsonl");

    let (mut reads, mut exports, mut verifies) = (Vec::new(), Vec::new(), Vec::new());
    let mut bytes = 0;
    for _ in 0..3 {
        let clock = Instant::now();
        let (mut after, mut n) = (0, 0);
        loop {
            let rows = store.read_log(TENANT, after, export::PAGE).await?;
            let Some(last) = rows.last() else { break };
            after = last.tenant_seq;
            n += rows.len();
        }
        anyhow::ensure!(n >= events, "read {n} of {events}");
        reads.push(clock.elapsed());

        let clock = Instant::now();
        let metadata = casewire_events::Metadata::new(casewire_events::Actor::Operator);
        let mut export = Export::begin(
            &store,
            TENANT,
            TrailFilter::default(),
            true,
            &keys,
            metadata,
        )
        .await?;
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file)?);
        while let Some(lines) = export.next_lines().await? {
            std::io::Write::write_all(&mut out, lines.as_bytes())?;
        }
        std::io::Write::flush(&mut out)?;
        exports.push(clock.elapsed());
        bytes = std::fs::metadata(&file)?.len();

        let clock = Instant::now();
        let verified = export::verify(
            std::io::BufReader::new(std::fs::File::open(&file)?),
            std::slice::from_ref(&keys.verifier_key),
        )
        .map_err(anyhow::Error::msg)?;
        anyhow::ensure!(
            verified.checkpoint.is_some(),
            "the export's checkpoint verifies"
        );
        verifies.push(clock.elapsed());
    }
    let rate = |d: Duration| events as f64 / d.as_secs_f64();

    eprintln!("audit: {texts} texts to search on PostgreSQL…");
    let postgres = searches(&store, texts).await?;
    eprintln!("audit: {texts} texts to search on SQLite…");
    let sqlite = Db::sqlite_file(&dir.path().join("search.db")).await?;
    sqlite.migrate().await?;
    let sqlite = searches(
        &EventStore::new(sqlite, casewire_crypto::Key::generate()),
        texts,
    )
    .await?;
    Ok(Figures {
        events,
        read: rate(median(reads)),
        export: rate(median(exports)),
        verify: rate(median(verifies)),
        bytes_per_event: bytes as f64 / events as f64,
        texts,
        searches: [postgres, sqlite],
    })
}

/// Fills the search index with `texts` texts, then times each kind of search 21 times.
async fn searches(store: &EventStore, texts: usize) -> anyhow::Result<Vec<Searched>> {
    fill_texts(store, texts).await?;
    let mut searches = Vec::new();
    for (what, words, case) in [
        ("no words: the newest texts (baseline)", vec![], None),
        ("a rare word (1 text in 10,000)", vec!["subpoena"], None),
        ("a common word (1 text in 4)", vec!["hearing"], None),
        ("two words", vec!["hearing", "lease"], None),
        (
            "a word in one case's texts",
            vec!["hearing"],
            Some("C-00042"),
        ),
    ] {
        let mut times = Vec::new();
        let mut found = 0;
        for _ in 0..21 {
            let clock = Instant::now();
            found = if words.is_empty() {
                newest(store).await?
            } else {
                let s = Search {
                    words: words.iter().map(|w| w.to_string()).collect(),
                    case_id: case.map(str::to_string),
                    limit: 50,
                    ..Search::default()
                };
                search::search(store, TENANT, &s).await?.len()
            };
            times.push(clock.elapsed());
        }
        times.sort();
        searches.push((
            what,
            times[times.len() / 2],
            times[times.len() * 95 / 100],
            found,
        ));
    }
    Ok(searches)
}

/// The search's baseline: the newest 50 texts, no words.
async fn newest(store: &EventStore) -> anyhow::Result<usize> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT message_id FROM audit_texts WHERE tenant_id = $1 ORDER BY at DESC, message_id LIMIT 50",
    )
    .bind(TENANT)
    .fetch_all(store.db().reader())
    .await?;
    Ok(rows.len())
}

/// `texts` rows of the search index, each of 12 words drawn from a vocabulary of 5,000
/// with Zipf's law, as words of real texts are (so PostgreSQL's statistics of the word
/// index look like a real one's), plus "hearing" in one text of four, "lease" in one of
/// eight, "subpoena" in one of 10,000; a case every 20 texts. The word index is built
/// after the rows, as a migration on a full table would (on SQLite, the FTS5 table is
/// rebuilt from the rows, its trigger set aside while they go in).
async fn fill_texts(store: &EventStore, texts: usize) -> anyhow::Result<()> {
    const VOCABULARY: usize = 5000;
    // Cumulative Zipf weights (s = 1) over the vocabulary, for drawing by bisection.
    let mut cumulative = Vec::with_capacity(VOCABULARY);
    let mut total = 0.0;
    for rank in 1..=VOCABULARY {
        total += 1.0 / rank as f64;
        cumulative.push(total);
    }
    // A fixed xorshift: the same texts every run.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut draw = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let x = (state >> 11) as f64 / (1u64 << 53) as f64 * total;
        cumulative.partition_point(|c| *c < x)
    };
    let pool = store.db().writer();
    let postgres = store.db().backend() == Backend::Postgres;
    let set_aside = if postgres {
        "DROP INDEX audit_texts_words"
    } else {
        "DROP TRIGGER audit_texts_indexed"
    };
    sqlx::query(set_aside).execute(pool).await?;
    for start in (0..texts).step_by(1000) {
        let n = 1000.min(texts - start);
        let mut sql = String::from(
            "INSERT INTO audit_texts (tenant_id, message_id, case_id, phone, direction, at, body) VALUES ",
        );
        let rows: Vec<String> = (start..start + n)
            .map(|i| {
                let mut body: Vec<String> = (0..12).map(|_| format!("w{}", draw())).collect();
                if i % 4 == 0 {
                    body.push("hearing".into());
                }
                if i % 8 == 0 {
                    body.push("lease".into());
                }
                if i % 10_000 == 0 {
                    body.push("subpoena".into());
                }
                // A text a second, in the order they were indexed, as the log records them.
                let at = chrono::DateTime::UNIX_EPOCH
                    + chrono::Duration::seconds(1_780_000_000 + i as i64);
                format!(
                    "('{TENANT}', 'm-{i:08}', 'C-{:05}', '+1312555{:04}', 'outbound', '{}', '{}')",
                    i / 20,
                    (i / 20) % 10_000,
                    at.format("%Y-%m-%dT%H:%M:%S%.6fZ"),
                    body.join(" ")
                )
            })
            .collect();
        sql.push_str(&rows.join(", "));
        sqlx::query(&sql).execute(pool).await?;
    }
    let (build, analyze) = if postgres {
        (
            "CREATE INDEX audit_texts_words ON audit_texts USING GIN (to_tsvector('simple', body))",
            "ANALYZE audit_texts",
        )
    } else {
        (
            "INSERT INTO audit_texts_fts (audit_texts_fts) VALUES ('rebuild')",
            "ANALYZE",
        )
    };
    sqlx::query(build).execute(pool).await?;
    sqlx::query(analyze).execute(pool).await?;
    Ok(())
}

pub fn print(f: &Figures) {
    println!(
        "\n## The trail at scale: export and offline verification (PostgreSQL), search (both)\n"
    );
    println!(
        "| {} events of one tenant | events/s | × reading them |",
        f.events
    );
    println!("|---|---|---|");
    println!(
        "| reading the rows, pages of 1,000 (baseline) | {:.0} | 1.00 |",
        f.read
    );
    println!(
        "| export, redacted, to a file (rows, manifest, checkpoint) | {:.0} | {:.2} |",
        f.export,
        f.export / f.read
    );
    println!(
        "| verifying the file offline (every hash, links, checkpoint) | {:.0} | {:.2} |",
        f.verify,
        f.verify / f.read
    );
    println!("\nExport size: {:.0} bytes per event.", f.bytes_per_event);
    for (backend, searches) in ["PostgreSQL", "SQLite (embedded)"].iter().zip(&f.searches) {
        println!(
            "\n| search over {} texts, {backend} | median | p95 | found (≤ 50) | × baseline |",
            f.texts
        );
        println!("|---|---|---|---|---|");
        let base = searches[0].1.as_secs_f64();
        for (what, p50, p95, found) in searches {
            println!(
                "| {what} | {:.1} ms | {:.1} ms | {found} | {:.1} |",
                p50.as_secs_f64() * 1000.0,
                p95.as_secs_f64() * 1000.0,
                p50.as_secs_f64() / base
            );
        }
    }
}
