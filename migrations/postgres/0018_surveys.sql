-- Surveys (issue 14): when each recipient of a survey campaign finished it (a reply after
-- that is only a reply), and every question asked and answered, written with the append
-- of the survey's events (inline). Where a recipient stands in the survey is its
-- aggregate's (survey_response), read only by the worker that reads their reply.
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
