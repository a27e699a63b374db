-- Each tenant's OpenID Connect provider (issue 16), as the gateway keeps it: the client
-- secret stays sealed, as recorded.
CREATE TABLE gateway_sso (tenant_id TEXT PRIMARY KEY, settings TEXT NOT NULL, updated_at TEXT NOT NULL);
