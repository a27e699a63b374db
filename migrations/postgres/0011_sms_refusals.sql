-- A tenant whose provider refused its credentials (Twilio's 20003), until an admin sets
-- the provider again: the dispatcher holds the tenant's texts, and the admin sees why.
CREATE TABLE messaging_sms_refusals (
    tenant_id TEXT PRIMARY KEY,
    code      TEXT NOT NULL,
    reason    TEXT NOT NULL,
    since     TEXT NOT NULL
);
