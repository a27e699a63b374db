-- Campaigns (issue 14): each one as its events left it, and its frozen audience, one row
-- per recipient in the order the launch froze them. Both are written with the append of
-- the campaign's events (inline), so the sender and the API see a pause at once.
CREATE TABLE messaging_campaigns (
    tenant_id   TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    plan        TEXT    NOT NULL,
    recipients  INTEGER NOT NULL DEFAULT 0,
    excluded    TEXT,
    created_at  TEXT    NOT NULL,
    launched_at TEXT,
    updated_at  TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX messaging_campaigns_created ON messaging_campaigns (tenant_id, created_at);

CREATE TABLE messaging_campaign_recipients (
    tenant_id   TEXT    NOT NULL,
    campaign_id TEXT    NOT NULL,
    n           INTEGER NOT NULL,
    case_id     TEXT    NOT NULL,
    phone       TEXT    NOT NULL,
    language    TEXT    NOT NULL,
    time_zone   TEXT,
    -- pending, queued (its text is a message: message_id) or skipped (reason)
    state       TEXT    NOT NULL,
    reason      TEXT,
    message_id  TEXT,
    queued_at   TEXT,
    PRIMARY KEY (tenant_id, campaign_id, n)
);
CREATE INDEX messaging_campaign_recipients_state
    ON messaging_campaign_recipients (tenant_id, campaign_id, state, n);

-- Who texted back after a campaign's text: a client's inbound texts by their number.
CREATE INDEX messaging_messages_phone ON messaging_messages (tenant_id, phone, created_at);

-- A campaign's texts are dispatched after every other due text (jobs::enqueue_behind).
ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_claim ON jobs (queue, priority, due_at);

-- A tenant's campaign texts of the last day, against its daily cap.
CREATE INDEX messaging_campaign_recipients_queued ON messaging_campaign_recipients (tenant_id, queued_at);
