-- Legal holds (issue 15): while one stands on a case or a number, that client is not
-- erased, by hand or by policy. The reason stays sealed with the client's data.
CREATE TABLE legal_holds (
    tenant_id TEXT NOT NULL,
    id        TEXT NOT NULL,
    case_id   TEXT,
    phone     TEXT,
    reason    TEXT,
    placed_by TEXT,
    placed_at TEXT NOT NULL,
    lifted_by TEXT,
    lifted_at TEXT,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX legal_holds_standing ON legal_holds (tenant_id, lifted_at);

-- Each text's copy at the provider, deleted when its client is erased.
ALTER TABLE messaging_messages ADD COLUMN provider_deleted_at TEXT;
ALTER TABLE messaging_messages ADD COLUMN provider_delete_error TEXT;
