//! Signed checkpoints: a tenant's head (seq and hash) signed by the platform's Ed25519 key
//! as a C2SP signed note, the format transparency logs use, so that any signed-note
//! library verifies it (docs/audit-chain.md, Signed checkpoints).
//!
//! The note's text is four lines: `casewire.audit/<tenant id>`, the seq, the head's hash in
//! hex, the signing time in RFC 3339. Kept outside casewire (a tenant's webhook endpoint
//! receives each as `audit.checkpoint`), it later proves the trail extends it: the trail
//! must pass through that seq with that hash.

use std::time::Duration;

use async_trait::async_trait;
use casewire_bus::jobs::{Job, Outcome, Worker};
use casewire_events::checkpoint::{checkpoint_id, CheckpointEvent};
use casewire_events::Metadata;
use casewire_eventstore::EventStore;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use signed_note::{Note, Signer, StandardSigner, StandardVerifier, VerifierList};

/// The first line of a checkpoint's text, before the tenant's id.
pub const ORIGIN: &str = "casewire.audit/";

/// The queue of the tenants whose head wants signing.
pub const QUEUE: &str = "audit_checkpoints";

/// The name of the platform's signing key when the configuration gives none.
pub const DEFAULT_KEY_NAME: &str = "casewire.audit";

/// When heads are signed on their own: as a tenant's log reaches each multiple of
/// `events`, and at most `after` after the first event no checkpoint covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cadence {
    pub events: i64,
    pub after: Duration,
}

impl Default for Cadence {
    fn default() -> Self {
        Cadence {
            events: 1000,
            after: Duration::from_secs(3600),
        }
    }
}

/// The text a checkpoint signs.
pub fn text(tenant: &str, seq: i64, hash: &str, signed_at: &str) -> String {
    format!("{ORIGIN}{tenant}\n{seq}\n{hash}\n{signed_at}\n")
}

/// What a checkpoint says, once its signature verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpointed {
    pub tenant: String,
    pub seq: i64,
    pub hash: String,
    pub signed_at: String,
}

/// Opens a signed note with the verifier keys given (`<name>+<id>+<key>`): what it says,
/// or why it cannot be trusted.
pub fn open(note: &str, verifier_keys: &[String]) -> Result<Checkpointed, String> {
    let verifiers = verifier_keys
        .iter()
        .map(|k| {
            StandardVerifier::new(k)
                .map(|v| Box::new(v) as Box<dyn signed_note::Verifier>)
                .map_err(|e| format!("verifier key {k:?}: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let note = Note::from_bytes(note.as_bytes())
        .map_err(|e| format!("not a signed note (C2SP signed-note): {e}"))?;
    note.verify(&VerifierList::new(verifiers))
        .map_err(|e| format!("its signature does not verify with casewire's keys: {e}"))?;
    let text = std::str::from_utf8(note.text()).map_err(|e| e.to_string())?;
    let lines: Vec<&str> = text.lines().collect();
    let [origin, seq, hash, signed_at] = lines[..] else {
        return Err(format!(
            "a checkpoint's text is four lines, not {}",
            lines.len()
        ));
    };
    let tenant = origin
        .strip_prefix(ORIGIN)
        .ok_or_else(|| format!("not a casewire checkpoint: its first line is {origin:?}"))?;
    Ok(Checkpointed {
        tenant: tenant.to_string(),
        seq: seq
            .parse()
            .map_err(|_| format!("seq {seq:?} is not a number"))?,
        hash: hash.to_string(),
        signed_at: signed_at.to_string(),
    })
}

/// The platform's signing key, and every verifier key it ever had.
pub struct Keys {
    signer: StandardSigner,
    /// The current key's verifier key.
    pub verifier_key: String,
    /// Every verifier key, the current first: old checkpoints stay verifiable after a
    /// rotation.
    pub all: Vec<String>,
}

/// The purpose the signing key is sealed for, with a key derived from the master key.
const SEALED_FOR: &str = "audit-signing-key";

/// The platform's signing keys, making the first under `name` if there is none. Two
/// processes making it at once both keep theirs; the older signs (both verify).
pub async fn keys(store: &EventStore, name: &str) -> anyhow::Result<Keys> {
    if current(store).await?.is_none() {
        make(store, name).await?;
    }
    let (signer, verifier_key) = current(store)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no audit signing key after making one"))?;
    Ok(Keys {
        signer,
        all: verifier_keys(store).await?,
        verifier_key,
    })
}

/// Retires the current signing key and makes a new one under `name`: new checkpoints are
/// signed with it; old ones stay verifiable with the retired key. Answers the new
/// verifier key.
pub async fn rotate(store: &EventStore, name: &str) -> anyhow::Result<String> {
    sqlx::query("UPDATE audit_signing_keys SET retired_at = $1 WHERE retired_at IS NULL")
        .bind(casewire_events::now())
        .execute(store.db().writer())
        .await?;
    make(store, name).await
}

/// Every verifier key, the current first, then the retired, newest first.
pub async fn verifier_keys(store: &EventStore) -> anyhow::Result<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT verifier_key FROM audit_signing_keys \
         ORDER BY CASE WHEN retired_at IS NULL THEN 0 ELSE 1 END, created_at DESC, key_id",
    )
    .fetch_all(store.db().reader())
    .await?;
    Ok(rows.into_iter().map(|(k,)| k).collect())
}

async fn current(store: &EventStore) -> anyhow::Result<Option<(StandardSigner, String)>> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT signer_sealed, verifier_key FROM audit_signing_keys WHERE retired_at IS NULL \
         ORDER BY created_at, key_id LIMIT 1",
    )
    .fetch_optional(store.db().reader())
    .await?;
    let Some((sealed, verifier_key)) = row else {
        return Ok(None);
    };
    let skey = store.open_token(SEALED_FOR, &sealed).ok_or_else(|| {
        anyhow::anyhow!("the audit signing key does not open: CASEWIRE_MASTER_KEY differs?")
    })?;
    let skey = String::from_utf8(skey)?;
    let signer =
        StandardSigner::new(&skey).map_err(|e| anyhow::anyhow!("audit signing key: {e}"))?;
    Ok(Some((signer, verifier_key)))
}

async fn make(store: &EventStore, name: &str) -> anyhow::Result<String> {
    anyhow::ensure!(
        signed_note::is_key_name_valid(name),
        "the audit key's name {name:?} must have no spaces and no '+'"
    );
    let (skey, vkey) = signed_note::generate_key(&mut rand::rngs::OsRng, name);
    let signer = StandardSigner::new(&skey).map_err(|e| anyhow::anyhow!("{e}"))?;
    sqlx::query(
        "INSERT INTO audit_signing_keys (key_id, name, verifier_key, signer_sealed, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(format!("{:08x}", signer.key_id()))
    .bind(name)
    .bind(&vkey)
    .bind(store.seal_token(SEALED_FOR, skey.as_bytes()))
    .bind(casewire_events::now())
    .execute(store.db().writer())
    .await?;
    Ok(vkey)
}

/// The checkpoint of one head: recorded once.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Checkpoint {
    signed: bool,
}

#[derive(Clone, Debug)]
pub enum CheckpointCommand {
    Record(CheckpointEvent),
}

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("this head is signed already")]
    AlreadySigned,
}

impl Aggregate for Checkpoint {
    const TYPE: &'static str = casewire_events::checkpoint::AGGREGATE;
    type Command = CheckpointCommand;
    type Event = CheckpointEvent;
    type Error = CheckpointError;
    type Services = ();

    async fn handle(
        &mut self,
        command: CheckpointCommand,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), CheckpointError> {
        let CheckpointCommand::Record(event) = command;
        if self.signed {
            return Err(CheckpointError::AlreadySigned);
        }
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, _: CheckpointEvent) {
        self.signed = true;
    }
}

/// A head's checkpoint, and whether this call signed it.
pub struct Signed {
    pub checkpoint: CheckpointEvent,
    /// False when the head was signed before (by another call, or another process).
    pub now: bool,
}

/// Signs the tenant's head and records the checkpoint; answers the one recorded already
/// when that head was signed before. `None` for a tenant with no event.
pub async fn sign(
    store: &EventStore,
    keys: &Keys,
    tenant: &str,
    metadata: Metadata,
) -> anyhow::Result<Option<Signed>> {
    let Some((seq, hash)) = store.head(tenant).await? else {
        return Ok(None);
    };
    let before = |found: Option<CheckpointEvent>| {
        found.map(|checkpoint| Signed {
            checkpoint,
            now: false,
        })
    };
    if let Some(signed) = find(store, tenant, seq).await? {
        return Ok(before(Some(signed)));
    }
    let signed_at = casewire_events::now();
    let mut note = Note::new(text(tenant, seq, &hash, &signed_at).as_bytes(), &[])
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    note.add_sigs(&[&keys.signer])
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let event = CheckpointEvent::CheckpointSigned {
        seq,
        hash,
        signed_at,
        key: keys.verifier_key.clone(),
        note: String::from_utf8(note.to_bytes())?,
    };
    let recorded = casewire_eventstore::framework::<Checkpoint>(store, tenant, ())
        .execute_with_metadata(
            &checkpoint_id(seq),
            CheckpointCommand::Record(event.clone()),
            metadata.into_map(),
        )
        .await;
    match recorded {
        Ok(()) => Ok(Some(Signed {
            checkpoint: event,
            now: true,
        })),
        // Signed meanwhile by another process: that one stands.
        Err(cqrs_es::AggregateError::UserError(CheckpointError::AlreadySigned))
        | Err(cqrs_es::AggregateError::AggregateConflict) => {
            Ok(before(find(store, tenant, seq).await?))
        }
        Err(e) => Err(anyhow::anyhow!("recording the checkpoint: {e}")),
    }
}

/// The checkpoint of the head at `seq`, if one was signed.
pub async fn find(
    store: &EventStore,
    tenant: &str,
    seq: i64,
) -> anyhow::Result<Option<CheckpointEvent>> {
    let events = store
        .read_aggregate(
            tenant,
            casewire_events::checkpoint::AGGREGATE,
            &checkpoint_id(seq),
            0,
        )
        .await?;
    match events.first() {
        Some(e) => Ok(Some(e.decode()?)),
        None => Ok(None),
    }
}

/// Whether a head wants signing: it moved past the last checkpoint by more than that
/// checkpoint's own event.
pub fn due(head_seq: i64, last_signed: Option<i64>) -> bool {
    match last_signed {
        None => head_seq > 0,
        Some(signed) => head_seq > signed + 1,
    }
}

/// The seq of the tenant's latest checkpoint.
pub async fn last_signed(store: &EventStore, tenant: &str) -> anyhow::Result<Option<i64>> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT aggregate_id FROM events WHERE tenant_id = $1 AND event_type = 'CheckpointSigned' \
         ORDER BY tenant_seq DESC LIMIT 1",
    )
    .bind(tenant)
    .fetch_optional(store.db().reader())
    .await?;
    Ok(row.and_then(|(seq,)| seq.parse().ok()))
}

/// Signs the heads the audit index queued: a tenant's job runs as its log reaches a
/// multiple of the cadence's events, or its time after the first unsigned event.
pub struct Checkpointer {
    pub key_name: String,
    pub cadence: Cadence,
}

#[async_trait]
impl Worker for Checkpointer {
    fn queue(&self) -> &'static str {
        QUEUE
    }

    async fn run(&self, store: &EventStore, job: &Job) -> anyhow::Result<Outcome> {
        let tenant = &job.tenant_id;
        let head = store.head(tenant).await?.map(|(seq, _)| seq).unwrap_or(0);
        if due(head, last_signed(store, tenant).await?) {
            let keys = keys(store, &self.key_name).await?;
            sign(
                store,
                &keys,
                tenant,
                Metadata::new(casewire_events::Actor::System),
            )
            .await?;
        }
        // Events that came while this ran are not covered: their checkpoint is due later.
        let head = store.head(tenant).await?.map(|(seq, _)| seq).unwrap_or(0);
        Ok(match due(head, last_signed(store, tenant).await?) {
            true => Outcome::Continue(casewire_events::utc_now() + self.cadence.after),
            false => Outcome::Done,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cqrs_es::test::TestFramework;

    #[test]
    fn a_note_verifies_with_its_key_and_says_its_four_lines() {
        let (skey, vkey) = signed_note::generate_key(&mut rand::rngs::OsRng, "casewire.test");
        let signer = StandardSigner::new(&skey).unwrap();
        let text = text("t-1", 42, "ab12", "2026-12-01T00:00:00.000000Z");
        assert_eq!(
            text,
            "casewire.audit/t-1\n42\nab12\n2026-12-01T00:00:00.000000Z\n"
        );
        let mut note = Note::new(text.as_bytes(), &[]).unwrap();
        note.add_sigs(&[&signer]).unwrap();
        let note = String::from_utf8(note.to_bytes()).unwrap();
        assert!(note.contains("\n\n— casewire.test "), "{note}");
        let opened = open(&note, std::slice::from_ref(&vkey)).unwrap();
        assert_eq!(
            (opened.tenant.as_str(), opened.seq, opened.hash.as_str()),
            ("t-1", 42, "ab12")
        );
        // Another key, or a changed text, is refused.
        let (_, other) = signed_note::generate_key(&mut rand::rngs::OsRng, "casewire.test");
        assert!(open(&note, &[other])
            .unwrap_err()
            .contains("does not verify"));
        let forged = note.replacen("\n42\n", "\n43\n", 1);
        assert!(open(&forged, &[vkey]).is_err());
    }

    #[test]
    fn the_worked_example_of_the_docs_holds() {
        // docs/audit-chain.md, "Worked example": the key whose seed is 32 bytes of 7.
        let skey = "PRIVATE+KEY+casewire.example.org+6a42867b+AQcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcH";
        let vkey = "casewire.example.org+6a42867b+AepKbGPinFIKvvVQexMuxfmVR3auvr57kkIe6mkURtIs";
        let signer = StandardSigner::new(skey).unwrap();
        let text = text(
            "4c114d22-e2f9-4a97-a0af-1ea44844d84b",
            1042,
            "840c211bdb860338f79e63e2d68f7c3d917642a3c192cc5551ca8d0ac7c8be82",
            "2026-12-01T09:00:00.000000Z",
        );
        let mut note = Note::new(text.as_bytes(), &[]).unwrap();
        note.add_sigs(&[&signer]).unwrap();
        let note = String::from_utf8(note.to_bytes()).unwrap();
        let docs = include_str!("../../../docs/audit-chain.md");
        let indented: String = note
            .lines()
            .map(|l| match l {
                "" => "\n".to_string(),
                l => format!("    {l}\n"),
            })
            .collect();
        assert!(docs.contains(&indented), "the docs show:\n{indented}");
        assert!(docs.contains(vkey));
        assert_eq!(open(&note, &[vkey.to_string()]).unwrap().seq, 1042);
    }

    #[test]
    fn a_head_is_due_once_it_moved_past_its_checkpoint() {
        assert!(!due(0, None));
        assert!(due(1, None));
        assert!(
            !due(8, Some(7)),
            "only the checkpoint's own event came since"
        );
        assert!(due(9, Some(7)));
    }

    #[test]
    fn a_head_is_signed_once() {
        let signed = CheckpointEvent::CheckpointSigned {
            seq: 7,
            hash: "ab".into(),
            signed_at: "2026-12-01T00:00:00.000000Z".into(),
            key: "k".into(),
            note: "n".into(),
        };
        TestFramework::<Checkpoint>::with(())
            .given_no_previous_events()
            .when(CheckpointCommand::Record(signed.clone()))
            .then_expect_events(vec![signed.clone()]);
        TestFramework::<Checkpoint>::with(())
            .given(vec![signed.clone()])
            .when(CheckpointCommand::Record(signed))
            .then_expect_error_message("this head is signed already");
    }
}
