-- Consent (issue 4): each (tenant, phone) state, and the evidence of every change (sealed
-- texts and notes stay sealed).
CREATE TABLE consent_states (
    tenant_id  TEXT NOT NULL,
    phone      TEXT NOT NULL,
    state      TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, phone)
);
CREATE INDEX consent_states_state ON consent_states (tenant_id, state, phone);

CREATE TABLE consent_evidence (
    tenant_id   TEXT    NOT NULL,
    tenant_seq  INTEGER NOT NULL,
    phone       TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    evidence    TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, tenant_seq)
);
CREATE INDEX consent_evidence_phone ON consent_evidence (tenant_id, phone, tenant_seq);
