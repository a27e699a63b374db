-- One reader of the log per service (issue 10): a service keeps one position per tenant,
-- named after the service, instead of one per projection. Each starts where the slowest of
-- its projections stood; they moved together in one transaction before, so they stood at
-- the same place unless one was added later, and then its events are applied again rather
-- than skipped.
INSERT INTO cursors (name, tenant_id, seq)
SELECT 'messaging', tenant_id, MIN(seq) FROM cursors
WHERE name IN ('messaging_tenants', 'messaging_sms_providers', 'messaging_policies',
               'messaging_reminder_policies', 'messaging_messages', 'messaging_outbox',
               'messaging_reminders')
GROUP BY tenant_id;

INSERT INTO cursors (name, tenant_id, seq)
SELECT 'consent', tenant_id, MIN(seq) FROM cursors
WHERE name IN ('consent_tenants', 'consent_policies', 'consent_states')
GROUP BY tenant_id;

INSERT INTO cursors (name, tenant_id, seq)
SELECT 'case-link', tenant_id, MIN(seq) FROM cursors
WHERE name IN ('caselink_tenants', 'caselink_cases', 'caselink_webhooks', 'caselink_routing_inbox')
GROUP BY tenant_id;

INSERT INTO cursors (name, tenant_id, seq)
SELECT 'gateway', tenant_id, MIN(seq) FROM cursors
WHERE name IN ('gateway_tenants', 'gateway_api_keys', 'gateway_sms_providers', 'gateway_policies',
               'gateway_reminder_policies')
GROUP BY tenant_id;

DELETE FROM cursors WHERE name NOT IN ('relay', 'messaging', 'consent', 'case-link', 'gateway');

-- Messaging checks each text's consent itself, from consent's events (issue 10): its own
-- copy of each number's state, started from the consent service's.
CREATE TABLE messaging_consents (
    tenant_id TEXT NOT NULL,
    phone     TEXT NOT NULL,
    state     TEXT NOT NULL,
    PRIMARY KEY (tenant_id, phone)
);
INSERT INTO messaging_consents (tenant_id, phone, state)
SELECT tenant_id, phone, state FROM consent_states;
