-- The relay's right to publish the log to JetStream (libs/bus/src/relay.rs): one row, held
-- by one process until `expires_at` and renewed before each batch; `token` grows with each
-- new holder (fencing). Used under PostgreSQL only: the embedded mode is one process.
CREATE TABLE relay_lease (
    name       TEXT   PRIMARY KEY,
    holder     TEXT,
    token      BIGINT NOT NULL DEFAULT 0,
    expires_at TEXT NOT NULL DEFAULT '1970-01-01T00:00:00Z'
);
INSERT INTO relay_lease (name) VALUES ('relay');
