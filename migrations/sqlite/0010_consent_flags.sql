-- A client's text that may revoke consent and does not clearly (consent's
-- RevocationUnclear) is flagged for staff with the reason; the flagged inbox lists them.
ALTER TABLE messaging_messages ADD COLUMN flag TEXT;
CREATE INDEX messaging_messages_flagged ON messaging_messages (tenant_id, created_at) WHERE flag IS NOT NULL;
