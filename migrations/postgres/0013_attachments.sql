-- Documents and pictures an advocate uploads to send with a text (an outbound MMS), kept
-- sealed with the client's data key (erased with them). The text that sends one claims it
-- (message_id, n); one never sent is removed a day after its upload.
CREATE TABLE messaging_attachments (
    tenant_id    TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    case_id      TEXT    NOT NULL,
    phone        TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    size         BIGINT  NOT NULL,
    sha256       TEXT    NOT NULL,
    sealed       BYTEA   NOT NULL,
    created_at   TEXT    NOT NULL,
    message_id   TEXT,
    n            INTEGER,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX messaging_attachments_sent ON messaging_attachments (tenant_id, message_id, n)
    WHERE message_id IS NOT NULL;
CREATE INDEX messaging_attachments_unsent ON messaging_attachments (tenant_id, created_at)
    WHERE message_id IS NULL;
