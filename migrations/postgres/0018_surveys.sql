-- Surveys (issue 14): where each recipient of a survey campaign stands (the question
-- waiting for their answer, whether it was asked again, when they finished), and every
-- answer, written with the append of the survey's events (inline).
ALTER TABLE messaging_campaign_recipients ADD COLUMN question TEXT;
ALTER TABLE messaging_campaign_recipients ADD COLUMN reasked INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messaging_campaign_recipients ADD COLUMN finished_at TEXT;

-- A client's reply finds their survey by their number.
CREATE INDEX messaging_campaign_recipients_phone
    ON messaging_campaign_recipients (tenant_id, phone, queued_at);

-- One row per question asked (asked_at; the first question's is the recipient's
-- queued_at) or answered: `answer` as the results count it (yes, no, 4, the option),
-- `parsed` 0 when the reply was kept as words after one more asking; the words are the
-- reply's (reply_id), sealed in its event.
CREATE TABLE messaging_survey_answers (
    tenant_id   TEXT    NOT NULL,
    campaign_id TEXT    NOT NULL,
    n           INTEGER NOT NULL,
    question    TEXT    NOT NULL,
    asked_at    TEXT,
    answer      TEXT,
    parsed      INTEGER,
    reply_id    TEXT,
    answered_at TEXT,
    PRIMARY KEY (tenant_id, campaign_id, n, question)
);
