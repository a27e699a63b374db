-- Consent purposes, tenant policy and quiet hours (issue 4).

-- Each tenant's texting policy as recorded, in each service that reads it.
CREATE TABLE gateway_policies (tenant_id TEXT PRIMARY KEY, settings TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE messaging_policies (tenant_id TEXT PRIMARY KEY, settings TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE consent_policies (tenant_id TEXT PRIMARY KEY, settings TEXT NOT NULL, updated_at TEXT NOT NULL);

-- The client's own time zone, when the CMS gives one: quiet hours are their local time.
ALTER TABLE messaging_cases ADD COLUMN time_zone TEXT;

-- Why each text was sent, when it may go (quiet hours), and the client's text it answers.
ALTER TABLE messaging_messages ADD COLUMN purpose TEXT;
ALTER TABLE messaging_messages ADD COLUMN deliver_after TEXT;
ALTER TABLE messaging_messages ADD COLUMN in_reply_to TEXT;
