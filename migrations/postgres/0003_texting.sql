-- Two-way texting (issue 3). Timestamps are RFC 3339 UTC text with microseconds, which
-- sort as text. Sealed columns hold the event's sealed node ({"$sealed": {subject, ct}}):
-- read models keep no plaintext body, name or secret; they are opened on read.

-- Work that follows an event (libs/bus/src/jobs.rs). Shared infrastructure, like cursors:
-- each service touches only its own queues.
CREATE TABLE jobs (
    queue       TEXT    NOT NULL,
    tenant_id   TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    payload     TEXT    NOT NULL,
    due_at      TEXT    NOT NULL,
    attempts    INTEGER NOT NULL,
    lease_until TEXT,
    last_error  TEXT,
    created_at  TEXT    NOT NULL,
    PRIMARY KEY (queue, tenant_id, id)
);
CREATE INDEX jobs_due ON jobs (queue, due_at);

-- A tenant's SMS provider, as recorded (auth token sealed). The gateway checks Twilio's
-- signatures with it; messaging sends with it.
CREATE TABLE gateway_sms_providers (tenant_id TEXT PRIMARY KEY, settings TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE messaging_sms_providers (tenant_id TEXT PRIMARY KEY, settings TEXT NOT NULL, updated_at TEXT NOT NULL);

-- Idempotency-Key: the first answer to a POST, replayed to a retry. The answer is sealed:
-- it may hold a secret shown once (a webhook endpoint's).
CREATE TABLE gateway_idempotency (
    scope        TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    request_hash TEXT    NOT NULL,
    status       INTEGER,
    response     TEXT,
    created_at   TEXT    NOT NULL,
    PRIMARY KEY (scope, key)
);

-- Cases as messaging needs them: where to send.
CREATE TABLE messaging_cases (
    tenant_id TEXT NOT NULL,
    case_id   TEXT NOT NULL,
    phone     TEXT NOT NULL,
    language  TEXT NOT NULL,
    status    TEXT NOT NULL,
    PRIMARY KEY (tenant_id, case_id)
);

-- Every text, both directions.
CREATE TABLE messaging_messages (
    tenant_id      TEXT    NOT NULL,
    id             TEXT    NOT NULL,
    case_id        TEXT,
    direction      TEXT    NOT NULL,
    phone          TEXT    NOT NULL,
    body           TEXT    NOT NULL,
    status         TEXT    NOT NULL,
    error_code     TEXT,
    error_reason   TEXT,
    segments       INTEGER NOT NULL,
    encoding       TEXT    NOT NULL,
    price_micros   INTEGER NOT NULL,
    provider       TEXT,
    provider_sid   TEXT,
    routing        TEXT,
    routing_reason TEXT,
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX messaging_messages_case ON messaging_messages (tenant_id, case_id, created_at);
CREATE INDEX messaging_messages_routing ON messaging_messages (tenant_id, routing, created_at);
CREATE INDEX messaging_messages_provider ON messaging_messages (tenant_id, provider, created_at);

-- Cases as case-link keeps them: the link between a CMS case and a client's phone.
CREATE TABLE caselink_cases (
    tenant_id      TEXT NOT NULL,
    case_id        TEXT NOT NULL,
    phone          TEXT NOT NULL,
    status         TEXT NOT NULL,
    details        TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    last_texted_at TEXT,
    PRIMARY KEY (tenant_id, case_id)
);
CREATE INDEX caselink_cases_phone ON caselink_cases (tenant_id, phone);

CREATE TABLE caselink_webhook_endpoints (
    tenant_id  TEXT NOT NULL,
    id         TEXT NOT NULL,
    url        TEXT NOT NULL,
    events     TEXT NOT NULL,
    secret     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- The delivery log of CMS webhooks; its retries run as jobs.
CREATE TABLE caselink_webhook_deliveries (
    tenant_id        TEXT    NOT NULL,
    id               TEXT    NOT NULL,
    endpoint_id      TEXT    NOT NULL,
    event_type       TEXT    NOT NULL,
    message_id       TEXT,
    status           TEXT    NOT NULL,
    attempts         INTEGER NOT NULL,
    last_status_code INTEGER,
    last_error       TEXT,
    next_attempt_at  TEXT,
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX caselink_webhook_deliveries_endpoint ON caselink_webhook_deliveries (tenant_id, endpoint_id, created_at);
