-- The compliance officer's search over clients' texts (issue 15): each text's opened
-- body, the one read model with clients' words in clear. A client's rows are deleted when
-- the client is erased. An FTS5 table indexes the words (accents folded), kept in step
-- with audit_texts by the triggers below.
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
CREATE INDEX audit_texts_by_phone ON audit_texts (tenant_id, phone);

CREATE VIRTUAL TABLE audit_texts_fts USING fts5(body, content='audit_texts', content_rowid='rowid');
CREATE TRIGGER audit_texts_indexed AFTER INSERT ON audit_texts BEGIN
    INSERT INTO audit_texts_fts (rowid, body) VALUES (new.rowid, new.body);
END;
CREATE TRIGGER audit_texts_dropped AFTER DELETE ON audit_texts BEGIN
    INSERT INTO audit_texts_fts (audit_texts_fts, rowid, body) VALUES ('delete', old.rowid, old.body);
END;

-- The tenants' review rules (keywords that flag a text), as the search index reads them.
CREATE TABLE audit_review_rules (
    tenant_id  TEXT PRIMARY KEY,
    settings   TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
