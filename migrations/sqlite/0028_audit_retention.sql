-- Each tenant's retention policy (issue 15), as the gateway applies it.
CREATE TABLE audit_retention (
    tenant_id  TEXT PRIMARY KEY,
    settings   TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
