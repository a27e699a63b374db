-- Outcome-survey rules (issue 14): each rule as its events left it, and the campaign that
-- sends it, open while the rule stands (messaging_campaigns.rule_id).
ALTER TABLE messaging_campaigns ADD COLUMN rule_id TEXT;

CREATE TABLE messaging_survey_rules (
    tenant_id   TEXT NOT NULL,
    id          TEXT NOT NULL,
    rule        TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    deleted_at  TEXT,
    PRIMARY KEY (tenant_id, id)
);
