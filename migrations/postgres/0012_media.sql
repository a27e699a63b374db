-- An inbound text's pictures and files (MMS): each kept sealed with the client's data key,
-- so erasing the client erases them, and listed on the message's row for its thread (one
-- JSON object per line, appended as each is kept or refused).
CREATE TABLE messaging_media (
    tenant_id    TEXT    NOT NULL,
    message_id   TEXT    NOT NULL,
    n            INTEGER NOT NULL,
    content_type TEXT    NOT NULL,
    size         BIGINT  NOT NULL,
    sha256       TEXT    NOT NULL,
    sealed       BYTEA   NOT NULL,
    created_at   TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, message_id, n)
);
ALTER TABLE messaging_messages ADD COLUMN media TEXT;
