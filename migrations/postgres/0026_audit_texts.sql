-- The compliance officer's search over clients' texts (issue 15): each text's opened
-- body, the one read model with clients' words in clear. A client's rows are deleted when
-- the client is erased. Words are indexed without stemming ('simple'): texts are in many
-- languages.
CREATE TABLE audit_texts (
    tenant_id  TEXT NOT NULL,
    message_id TEXT NOT NULL,
    case_id    TEXT,
    phone      TEXT NOT NULL,
    direction  TEXT NOT NULL,
    at         TEXT NOT NULL,
    body       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, message_id)
);
CREATE INDEX audit_texts_words ON audit_texts USING GIN (to_tsvector('simple', body));
CREATE INDEX audit_texts_by_phone ON audit_texts (tenant_id, phone);

-- The tenants' review rules (keywords that flag a text), as the search index reads them.
CREATE TABLE audit_review_rules (
    tenant_id  TEXT PRIMARY KEY,
    settings   TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
