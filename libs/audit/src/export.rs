//! Exports of a tenant's trail as JSON Lines, and their verification with no database
//! (docs/audit-chain.md, Exports).
//!
//! Each line but the last is a row of the log exactly as stored and hashed (the fields of
//! [`RecordedEvent`]), with, when the export is not redacted, an `opened` copy of its payload
//! whose sealed fields are opened. The last line is the [`Manifest`]: what the export holds,
//! and the signed checkpoint that covers it.

use std::io::BufRead;

use casewire_events::checkpoint::CheckpointEvent;
use casewire_events::review::TrailFilter;
use casewire_events::RecordedEvent;
use casewire_eventstore::{chain, EventStore};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::checkpoint::{self, Checkpointed};
use crate::trail;

/// Rows read per page: a page is held in memory, never the whole export.
pub const PAGE: i64 = 1000;

/// One row of an export.
#[derive(Serialize, Deserialize)]
pub struct Line {
    #[serde(flatten)]
    pub row: RecordedEvent,
    /// The payload with its sealed fields opened (or marked erased); absent when redacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opened: Option<Value>,
}

/// The last line of an export: `{"manifest": {…}}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub tenant: String,
    pub filter: TrailFilter,
    pub redacted: bool,
    /// How many rows the export holds, and the first and last of them.
    pub events: u64,
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
    pub last_hash: Option<String>,
    /// The latest checkpoint within the export's rows, as a signed note: the rows up to its
    /// seq are the ones casewire signed. A whole export signs its own first.
    pub checkpoint: Option<String>,
    /// The verifier key of the checkpoint's signature, as casewire knew it. Verify with a
    /// key kept outside casewire to know the checkpoint is casewire's.
    pub key: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct ManifestLine {
    manifest: Manifest,
}

/// An export under way: its rows a page at a time, then its manifest.
pub struct Export {
    store: EventStore,
    tenant: String,
    query: trail::Query,
    redacted: bool,
    manifest: Manifest,
    /// The last seq it may hold: the head when it began (or its checkpoint's seq).
    through: i64,
    done: bool,
}

impl Export {
    /// Begins an export of what `filter` picks (its `case_id`, `from`, `to` and
    /// `after_seq`; not `phone`, `advocate` or `type`, which would leave holes an auditor
    /// cannot tell from deletions), through the tenant's head as it is now. A checkpoint
    /// covers the rows up to its seq; an export that may end at the head (no `to`, no
    /// case) signs the head first, with `keys`, so that all of it is covered.
    pub async fn begin(
        store: &EventStore,
        tenant: &str,
        filter: TrailFilter,
        redacted: bool,
        keys: &checkpoint::Keys,
        metadata: casewire_events::Metadata,
    ) -> anyhow::Result<Export> {
        anyhow::ensure!(
            filter.phone.is_none() && filter.advocate.is_none() && filter.event_type.is_none(),
            "an export takes a case, a time window or a starting seq, not a number, a person or a type"
        );
        let whole = filter.case_id.is_none() && filter.to.is_none();
        let signed = match whole {
            true => checkpoint::sign(store, keys, tenant, metadata).await?,
            false => None,
        };
        let through = match &signed {
            Some(s) => checkpoint_seq(&s.checkpoint),
            None => store.head(tenant).await?.map(|(seq, _)| seq).unwrap_or(0),
        };
        let query = trail::query(filter.clone()).map_err(anyhow::Error::msg)?;
        Ok(Export {
            store: store.clone(),
            tenant: tenant.to_string(),
            query,
            redacted,
            manifest: Manifest {
                tenant: tenant.to_string(),
                filter,
                redacted,
                ..Manifest::default()
            },
            through,
            done: false,
        })
    }

    /// The next lines (each ending in a newline): a page of rows, then the manifest, then
    /// `None`.
    pub async fn next_lines(&mut self) -> anyhow::Result<Option<String>> {
        if self.done {
            return Ok(None);
        }
        let after = self.manifest.last_seq.or(self.query.filter.after_seq);
        self.query.filter.after_seq = after;
        let rows: Vec<RecordedEvent> = trail::read(&self.store, &self.tenant, &self.query, PAGE)
            .await?
            .into_iter()
            .filter(|e| e.tenant_seq <= self.through)
            .collect();
        let mut out = String::new();
        if rows.is_empty() {
            self.done = true;
            if let Some(CheckpointEvent::CheckpointSigned { note, key, .. }) =
                self.covering().await?
            {
                self.manifest.checkpoint = Some(note);
                self.manifest.key = Some(key);
            }
            out.push_str(&serde_json::to_string(&ManifestLine {
                manifest: self.manifest.clone(),
            })?);
            out.push('\n');
            return Ok(Some(out));
        }
        for row in rows {
            let opened = match self.redacted {
                true => None,
                false => Some(self.store.open_payload(&self.tenant, &row.payload).await?),
            };
            self.manifest.events += 1;
            self.manifest.first_seq.get_or_insert(row.tenant_seq);
            self.manifest.last_seq = Some(row.tenant_seq);
            self.manifest.last_hash = Some(row.hash.clone());
            out.push_str(&serde_json::to_string(&Line { row, opened })?);
            out.push('\n');
        }
        Ok(Some(out))
    }

    /// The latest checkpoint whose seq is one of the export's rows.
    async fn covering(&self) -> anyhow::Result<Option<CheckpointEvent>> {
        let (Some(first), Some(last)) = (self.manifest.first_seq, self.manifest.last_seq) else {
            return Ok(None);
        };
        let (seq,): (Option<i64>,) = sqlx::query_as(
            "SELECT MAX(CAST(aggregate_id AS BIGINT)) FROM events WHERE tenant_id = $1 \
             AND event_type = 'CheckpointSigned' AND CAST(aggregate_id AS BIGINT) BETWEEN $2 AND $3",
        )
        .bind(&self.tenant)
        .bind(first)
        .bind(last)
        .fetch_one(self.store.db().reader())
        .await?;
        match seq {
            Some(s) => Ok(checkpoint::find(&self.store, &self.tenant, s).await?),
            None => Ok(None),
        }
    }

    /// The manifest so far (complete once [`Export::next_lines`] answered `None`).
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The last seq the export may reach: for a progress bar.
    pub fn through(&self) -> i64 {
        self.through
    }
}

fn checkpoint_seq(c: &CheckpointEvent) -> i64 {
    let CheckpointEvent::CheckpointSigned { seq, .. } = c;
    *seq
}

/// The manifest an export ends with, unverified: to learn which key it names.
pub fn manifest(file: impl BufRead) -> Option<Manifest> {
    let last = file.lines().map_while(Result::ok).last()?;
    serde_json::from_str::<ManifestLine>(&last)
        .ok()
        .map(|m| m.manifest)
}

/// What verifying an export found.
#[derive(Debug, PartialEq)]
pub struct Verified {
    pub manifest: Manifest,
    /// The checkpoint that covers the rows up to its seq, verified.
    pub checkpoint: Option<Checkpointed>,
    /// Runs of consecutive seqs: one for an export of the whole trail or a time window;
    /// a case's export is in pieces, each checked on its own.
    pub runs: u64,
}

/// Verifies an export with no database: every row hashes to what it says, each links to
/// the one before it where their seqs follow (and the first of the tenant's links to
/// nothing), the manifest agrees with the rows, and its checkpoint is signed by one of
/// `keys` and names a row of the export with that row's hash. The error names the line.
pub fn verify(file: impl BufRead, keys: &[String]) -> Result<Verified, String> {
    let mut manifest: Option<Manifest> = None;
    let mut prev: Option<(i64, String)> = None;
    let (mut events, mut runs) = (0u64, 0u64);
    let mut first: Option<i64> = None;
    let mut hashes: std::collections::HashMap<i64, String> = std::collections::HashMap::new();
    for (n, line) in file.lines().enumerate() {
        let n = n + 1;
        let line = line.map_err(|e| format!("line {n}: {e}"))?;
        if manifest.is_some() {
            return Err(format!("line {n}: a line after the manifest"));
        }
        let value: Value =
            serde_json::from_str(&line).map_err(|e| format!("line {n}: not JSON: {e}"))?;
        if value.get("manifest").is_some() {
            let m: ManifestLine =
                serde_json::from_value(value).map_err(|e| format!("line {n}: manifest: {e}"))?;
            manifest = Some(m.manifest);
            continue;
        }
        let Line { row, .. } =
            serde_json::from_value(value).map_err(|e| format!("line {n}: not a row: {e}"))?;
        let seq = row.tenant_seq;
        let mut link = [0u8; 32];
        hex::decode_to_slice(&row.prev_hash, &mut link)
            .map_err(|_| format!("line {n}: event {seq}: prev_hash is not 64 hex digits"))?;
        if chain::to_hex(&chain::event_hash(&link, &row)) != row.hash {
            return Err(format!(
                "line {n}: event {seq} is altered: it does not hash to its hash"
            ));
        }
        match &prev {
            Some((p, _)) if seq <= *p => {
                return Err(format!("line {n}: event {seq} comes after event {p}"))
            }
            Some((p, hash)) if seq == p + 1 && row.prev_hash != *hash => {
                return Err(format!("line {n}: event {seq} does not link to event {p}"))
            }
            Some((p, _)) if seq == p + 1 => {}
            _ => {
                runs += 1;
                if seq == 1 && link != chain::GENESIS {
                    return Err(format!("line {n}: event 1 links to something before it"));
                }
            }
        }
        first.get_or_insert(seq);
        events += 1;
        hashes.insert(seq, row.hash.clone());
        prev = Some((seq, row.hash));
    }
    let manifest = manifest.ok_or("no manifest at the end: the export was cut short")?;
    let last = prev.as_ref();
    if manifest.events != events
        || manifest.first_seq != first
        || manifest.last_seq != last.map(|(s, _)| *s)
        || manifest.last_hash.as_ref() != last.map(|(_, h)| h)
    {
        return Err(format!(
            "the manifest says {} events from {:?} to {:?}; the file holds {events} from {first:?} to {:?}",
            manifest.events,
            manifest.first_seq,
            manifest.last_seq,
            last.map(|(s, _)| s)
        ));
    }
    if manifest.filter.case_id.is_none() && runs > 1 {
        return Err(format!(
            "the rows have gaps ({runs} runs of consecutive events): an export of the trail or a time window holds every event in its range"
        ));
    }
    let checkpoint = match &manifest.checkpoint {
        None => None,
        Some(note) => {
            let c = checkpoint::open(note, keys).map_err(|e| format!("the checkpoint: {e}"))?;
            if c.tenant != manifest.tenant {
                return Err("the checkpoint is of another tenant's trail".into());
            }
            match hashes.get(&c.seq) {
                Some(h) if *h == c.hash => Some(c),
                Some(_) => {
                    return Err(format!(
                        "event {} is not the one the checkpoint signed: its hash differs",
                        c.seq
                    ))
                }
                None => {
                    return Err(format!(
                        "the checkpoint signs event {}, not in the export",
                        c.seq
                    ))
                }
            }
        }
    };
    Ok(Verified {
        manifest,
        checkpoint,
        runs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows 1..=n of a tenant, chained as the store chains them.
    fn rows(n: i64) -> Vec<RecordedEvent> {
        let mut prev = chain::GENESIS;
        (1..=n)
            .map(|seq| {
                let mut e = RecordedEvent {
                    tenant_id: "t".into(),
                    tenant_seq: seq,
                    event_id: format!("e{seq}"),
                    aggregate_type: "case".into(),
                    aggregate_id: "C-1".into(),
                    sequence: seq,
                    event_type: "CaseUpdated".into(),
                    event_version: "1".into(),
                    payload: format!("{{\"n\":{seq}}}"),
                    metadata: "{}".into(),
                    recorded_at: "2026-12-01T00:00:00.000000Z".into(),
                    prev_hash: chain::to_hex(&prev),
                    hash: String::new(),
                };
                prev = chain::event_hash(&prev, &e);
                e.hash = chain::to_hex(&prev);
                e
            })
            .collect()
    }

    fn file(rows: &[RecordedEvent], manifest: &Manifest) -> String {
        let mut out = String::new();
        for row in rows {
            let line = Line {
                row: row.clone(),
                opened: None,
            };
            out.push_str(&serde_json::to_string(&line).unwrap());
            out.push('\n');
        }
        out.push_str(
            &serde_json::to_string(&ManifestLine {
                manifest: manifest.clone(),
            })
            .unwrap(),
        );
        out.push('\n');
        out
    }

    fn manifest_of(rows: &[RecordedEvent]) -> Manifest {
        Manifest {
            tenant: "t".into(),
            events: rows.len() as u64,
            first_seq: rows.first().map(|r| r.tenant_seq),
            last_seq: rows.last().map(|r| r.tenant_seq),
            last_hash: rows.last().map(|r| r.hash.clone()),
            ..Manifest::default()
        }
    }

    #[test]
    fn an_export_verifies_and_a_change_to_it_is_named_by_its_line() {
        let rows = rows(4);
        let ok = verify(file(&rows, &manifest_of(&rows)).as_bytes(), &[]).unwrap();
        assert_eq!((ok.manifest.events, ok.runs), (4, 1));

        let mut altered = rows.clone();
        altered[2].payload = "{\"n\":99}".into();
        let e = verify(file(&altered, &manifest_of(&rows)).as_bytes(), &[]).unwrap_err();
        assert!(e.starts_with("line 3: event 3 is altered"), "{e}");

        let mut gap = rows.clone();
        gap.remove(1);
        let e = verify(file(&gap, &manifest_of(&gap)).as_bytes(), &[]).unwrap_err();
        assert!(e.contains("gaps"), "{e}");

        let whole = file(&rows, &manifest_of(&rows));
        let cut: String = whole.lines().take(3).map(|l| format!("{l}\n")).collect();
        let e = verify(cut.as_bytes(), &[]).unwrap_err();
        assert!(e.contains("cut short"), "{e}");

        let mut fewer = manifest_of(&rows);
        fewer.events = 3;
        let e = verify(file(&rows, &fewer).as_bytes(), &[]).unwrap_err();
        assert!(e.starts_with("the manifest says 3 events"), "{e}");
    }

    #[test]
    fn a_cases_export_is_in_pieces_each_checked() {
        let all = rows(5);
        let picked = vec![all[0].clone(), all[1].clone(), all[4].clone()];
        let mut manifest = manifest_of(&picked);
        manifest.filter.case_id = Some("C-1".into());
        let ok = verify(file(&picked, &manifest).as_bytes(), &[]).unwrap();
        assert_eq!((ok.manifest.events, ok.runs), (3, 2));
    }
}
