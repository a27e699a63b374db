-- The append-only event log (ARCHITECTURE.md, The event store). payload, metadata and
-- recorded_at are TEXT exactly as hashed; see docs/audit-chain.md for the byte layout.
CREATE TABLE events (
    tenant_id      TEXT   NOT NULL,
    tenant_seq     BIGINT NOT NULL CHECK (tenant_seq >= 1),
    event_id       TEXT   NOT NULL UNIQUE,
    aggregate_type TEXT   NOT NULL,
    aggregate_id   TEXT   NOT NULL,
    sequence       BIGINT NOT NULL CHECK (sequence >= 1),
    event_type     TEXT   NOT NULL,
    event_version  TEXT   NOT NULL,
    payload        TEXT   NOT NULL,
    metadata       TEXT   NOT NULL,
    recorded_at    TEXT   NOT NULL,
    prev_hash      BYTEA  NOT NULL,
    hash           BYTEA  NOT NULL,
    PRIMARY KEY (tenant_id, tenant_seq),
    UNIQUE (tenant_id, aggregate_type, aggregate_id, sequence)
);

CREATE FUNCTION casewire_events_are_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only: % on events is refused; record a correcting event instead', TG_OP;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER events_no_update_or_delete BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION casewire_events_are_immutable();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION casewire_events_are_immutable();
REVOKE UPDATE, DELETE, TRUNCATE ON events FROM PUBLIC;

-- The head of each tenant's chain. Appends lock this row, which serializes one tenant's
-- appends across processes. It is a cache: the verifier trusts only the events, and uses
-- the head only to notice a log cut short at its end.
CREATE TABLE chain_heads (
    tenant_id TEXT   PRIMARY KEY,
    seq       BIGINT NOT NULL,
    hash      BYTEA  NOT NULL
);

-- How far each reader of the log has got, per tenant: the relay ("relay") and every
-- projection (its own name). A projection writes its row in the same transaction as its
-- read-model change, so a redelivered event is recognised and skipped.
CREATE TABLE cursors (
    name      TEXT   NOT NULL,
    tenant_id TEXT   NOT NULL,
    seq       BIGINT NOT NULL,
    PRIMARY KEY (name, tenant_id)
);

-- Per-subject data keys that seal personal fields, wrapped by the master key. Mutable and
-- outside the log: erasure sets wrapped to NULL, which makes the subject's sealed fields
-- unreadable everywhere without touching an event.
CREATE TABLE data_keys (
    tenant_id  TEXT NOT NULL,
    subject    TEXT NOT NULL,
    wrapped    BYTEA,
    created_at TEXT NOT NULL,
    erased_at  TEXT,
    PRIMARY KEY (tenant_id, subject)
);
