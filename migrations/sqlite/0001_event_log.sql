-- The append-only event log; the same shape as migrations/postgres/0001_event_log.sql.
CREATE TABLE events (
    tenant_id      TEXT    NOT NULL,
    tenant_seq     INTEGER NOT NULL CHECK (tenant_seq >= 1),
    event_id       TEXT    NOT NULL UNIQUE,
    aggregate_type TEXT    NOT NULL,
    aggregate_id   TEXT    NOT NULL,
    sequence       INTEGER NOT NULL CHECK (sequence >= 1),
    event_type     TEXT    NOT NULL,
    event_version  TEXT    NOT NULL,
    payload        TEXT    NOT NULL,
    metadata       TEXT    NOT NULL,
    recorded_at    TEXT    NOT NULL,
    prev_hash      BLOB    NOT NULL,
    hash           BLOB    NOT NULL,
    PRIMARY KEY (tenant_id, tenant_seq),
    UNIQUE (tenant_id, aggregate_type, aggregate_id, sequence)
);

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only: UPDATE on events is refused; record a correcting event instead');
END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only: DELETE on events is refused; record a correcting event instead');
END;

CREATE TABLE chain_heads (
    tenant_id TEXT    PRIMARY KEY,
    seq       INTEGER NOT NULL,
    hash      BLOB    NOT NULL
);

CREATE TABLE cursors (
    name      TEXT    NOT NULL,
    tenant_id TEXT    NOT NULL,
    seq       INTEGER NOT NULL,
    PRIMARY KEY (name, tenant_id)
);

CREATE TABLE data_keys (
    tenant_id  TEXT NOT NULL,
    subject    TEXT NOT NULL,
    wrapped    BLOB,
    created_at TEXT NOT NULL,
    erased_at  TEXT,
    PRIMARY KEY (tenant_id, subject)
);
