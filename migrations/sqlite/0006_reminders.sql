-- Appointment reminders (issue 5).

-- What a reminder says about the client: their name (the sealed node of the case event)
-- and the advocate; and whether the case's reminders are on.
ALTER TABLE messaging_cases ADD COLUMN client_name TEXT;
ALTER TABLE messaging_cases ADD COLUMN advocate TEXT;
ALTER TABLE messaging_cases ADD COLUMN reminders_enabled INTEGER NOT NULL DEFAULT 1;

CREATE TABLE messaging_reminder_policies (tenant_id TEXT PRIMARY KEY, settings TEXT NOT NULL, updated_at TEXT NOT NULL);

CREATE TABLE messaging_appointments (
    tenant_id      TEXT    NOT NULL,
    case_id        TEXT    NOT NULL,
    appointment_id TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    starts_at      TEXT    NOT NULL,
    cancelled      INTEGER NOT NULL,
    updated_at     TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, case_id, appointment_id)
);

-- Each reminder's latest state; sends_at is when its job runs (the due time, or the end of
-- quiet hours once deferred).
CREATE TABLE messaging_reminders (
    tenant_id      TEXT NOT NULL,
    case_id        TEXT NOT NULL,
    appointment_id TEXT NOT NULL,
    offset_iso     TEXT NOT NULL,
    due_at         TEXT NOT NULL,
    sends_at       TEXT,
    state          TEXT NOT NULL,
    reason         TEXT,
    message_id     TEXT,
    updated_at     TEXT NOT NULL,
    PRIMARY KEY (tenant_id, case_id, appointment_id, offset_iso)
);
CREATE TABLE gateway_reminder_policies (tenant_id TEXT PRIMARY KEY, settings TEXT NOT NULL, updated_at TEXT NOT NULL);
