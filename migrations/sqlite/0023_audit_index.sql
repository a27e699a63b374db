-- The trail's index (issue 15, GET /v1/audit/events): which aggregates each case and each
-- client's number touch, and which events each person did. Filled by the gateway's
-- audit_index projection (libs/audit/src/index.rs).
CREATE TABLE audit_links (
    tenant_id      TEXT NOT NULL,
    kind           TEXT NOT NULL, -- case or phone
    value          TEXT NOT NULL,
    aggregate_type TEXT NOT NULL,
    aggregate_id   TEXT NOT NULL,
    PRIMARY KEY (tenant_id, kind, value, aggregate_type, aggregate_id)
);

CREATE TABLE audit_people (
    tenant_id TEXT   NOT NULL,
    person    TEXT   NOT NULL,
    seq       BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, person, seq)
);

-- The trail by type and by time. Indexes on the log change none of its rows.
CREATE INDEX events_by_type ON events (tenant_id, event_type, tenant_seq);
CREATE INDEX events_by_time ON events (tenant_id, recorded_at);
