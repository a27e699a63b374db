-- Bulk texts and surveys (issue 14) pick their audience from messaging's copy of the cases:
-- it keeps each case's details as the log stores them (the client's name sealed), which
-- the audience filter reads. Filled from case-link's copy for the cases known before.
ALTER TABLE messaging_cases ADD COLUMN details TEXT;
UPDATE messaging_cases SET details = (
    SELECT c.details FROM caselink_cases c
    WHERE c.tenant_id = messaging_cases.tenant_id AND c.case_id = messaging_cases.case_id
);

-- Who was texted lately: an audience may leave out clients texted within a period.
CREATE INDEX messaging_messages_texted ON messaging_messages (tenant_id, created_at)
    WHERE direction = 'outbound';
