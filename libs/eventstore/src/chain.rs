//! The per-tenant hash chain. The byte layout is specified in docs/audit-chain.md; keep the
//! two in step, since auditors re-implement it from the document.
//!
//! `hash = SHA-256(prev_hash ‖ canonical(row))`, where canonical(row) is each field below in
//! this order, text as UTF-8 prefixed by its byte length as a 4-byte big-endian integer,
//! integers as 8-byte big-endian two's complement.

use casewire_events::RecordedEvent;
use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

/// `prev_hash` of a tenant's first event.
pub const GENESIS: Hash = [0u8; 32];

pub fn event_hash(prev: &Hash, e: &RecordedEvent) -> Hash {
    let mut h = Sha256::new();
    h.update(prev);
    let text = |h: &mut Sha256, s: &str| {
        h.update((s.len() as u32).to_be_bytes());
        h.update(s.as_bytes());
    };
    text(&mut h, &e.tenant_id);
    h.update(e.tenant_seq.to_be_bytes());
    text(&mut h, &e.event_id);
    text(&mut h, &e.aggregate_type);
    text(&mut h, &e.aggregate_id);
    h.update(e.sequence.to_be_bytes());
    text(&mut h, &e.event_type);
    text(&mut h, &e.event_version);
    text(&mut h, &e.payload);
    text(&mut h, &e.metadata);
    text(&mut h, &e.recorded_at);
    h.finalize().into()
}

/// Whether `e` is the event that comes right after (`seq`, `hash`) in its tenant's chain:
/// the next seq, linked to that hash, and hashing to what it says. For an event that
/// arrives by another way than the log (a NATS message), before it is applied.
pub fn follows(seq: i64, hash: &str, e: &RecordedEvent) -> bool {
    let mut prev = [0u8; 32];
    e.tenant_seq == seq + 1
        && e.prev_hash == hash
        && hex::decode_to_slice(hash, &mut prev).is_ok()
        && to_hex(&event_hash(&prev, e)) == e.hash
}

pub fn to_hex(h: &Hash) -> String {
    hex::encode(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RecordedEvent {
        RecordedEvent {
            tenant_id: "t1".into(),
            tenant_seq: 1,
            event_id: "e1".into(),
            aggregate_type: "tenant".into(),
            aggregate_id: "t1".into(),
            sequence: 1,
            event_type: "TenantCreated".into(),
            event_version: "1".into(),
            payload: r#"{"name":"Legal Aid"}"#.into(),
            metadata: "{}".into(),
            recorded_at: "2026-11-29T12:00:00.000000Z".into(),
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    /// The worked example in docs/audit-chain.md: if this changes, the document is wrong.
    #[test]
    fn matches_the_documented_example() {
        assert_eq!(
            to_hex(&event_hash(&GENESIS, &sample())),
            "d6013206e02a04e0ace51aeda3394a38412530c39085e9061fc77b0e5c2ce4a4"
        );
    }

    /// The second example of docs/audit-chain.md: linked to the first, and a payload whose
    /// length prefix counts bytes (24), not characters (23).
    #[test]
    fn matches_the_second_documented_example() {
        let first = event_hash(&GENESIS, &sample());
        let e = RecordedEvent {
            tenant_seq: 2,
            event_id: "e2".into(),
            aggregate_type: "consent".into(),
            aggregate_id: "+13125550100".into(),
            sequence: 1,
            event_type: "ConsentGranted".into(),
            payload: r#"{"reply":"Sí, gracias"}"#.into(),
            recorded_at: "2026-11-29T12:00:01.000000Z".into(),
            ..sample()
        };
        assert_eq!((e.payload.chars().count(), e.payload.len()), (23, 24));
        assert_eq!(
            to_hex(&event_hash(&first, &e)),
            "b7a592b8aca3a6d1a9ac4412d381ecf1ffea68c734002ee253e179e74924f2aa"
        );
    }

    #[test]
    fn an_event_follows_only_the_one_it_links_to() {
        let mut e = sample();
        e.prev_hash = to_hex(&GENESIS);
        e.hash = to_hex(&event_hash(&GENESIS, &e));
        assert!(follows(0, &e.prev_hash.clone(), &e));
        assert!(!follows(1, &e.prev_hash.clone(), &e), "not the next seq");
        assert!(!follows(0, &to_hex(&[1; 32]), &e), "linked elsewhere");
        let mut altered = e.clone();
        altered.payload.push(' ');
        assert!(!follows(0, &e.prev_hash, &altered), "content changed");
    }

    #[test]
    fn every_field_counts() {
        let base = event_hash(&GENESIS, &sample());
        let mut e = sample();
        e.tenant_seq = 2;
        assert_ne!(event_hash(&GENESIS, &e), base);
        let mut e = sample();
        e.payload.push(' ');
        assert_ne!(event_hash(&GENESIS, &e), base);
        assert_ne!(event_hash(&[1; 32], &sample()), base);
        // length prefixes keep field boundaries: moving a byte between fields changes the hash
        let mut e = sample();
        e.aggregate_type = "tenantt".into();
        e.aggregate_id = "1".into();
        assert_ne!(event_hash(&GENESIS, &e), base);
    }
}
