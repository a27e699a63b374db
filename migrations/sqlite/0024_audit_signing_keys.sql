-- The platform's Ed25519 keys that sign tenants' checkpoints (issue 15): the signer key
-- sealed under a key derived from the master key, the verifier key in the clear (it is
-- public). Platform-wide, so no tenant_id. A rotated key is retired, never deleted: the
-- checkpoints it signed stay verifiable.
CREATE TABLE audit_signing_keys (
    key_id        TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    verifier_key  TEXT NOT NULL,
    signer_sealed TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    retired_at    TEXT
);
