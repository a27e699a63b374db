-- Review flags on texts (issue 15): raised by compliance officers or the tenant's review
-- rules, resolved by them. Notes stay sealed here (the JSON of the sealed node) and are
-- opened as they are read, so an erased client's notes read as erased.
CREATE TABLE review_flags (
    tenant_id             TEXT NOT NULL,
    id                    TEXT NOT NULL,
    message_id            TEXT NOT NULL,
    case_id               TEXT,
    reason                TEXT NOT NULL,
    keywords              TEXT NOT NULL,
    note                  TEXT,
    state                 TEXT NOT NULL,
    flagged_by            TEXT,
    on_behalf_of          TEXT,
    created_at            TEXT NOT NULL,
    resolution            TEXT,
    resolved_by           TEXT,
    resolved_on_behalf_of TEXT,
    resolved_at           TEXT,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX review_flags_by_state ON review_flags (tenant_id, state, created_at);
