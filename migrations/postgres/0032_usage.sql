-- What texting costs a month (issue 16): the usage page reads a tenant's texts by date.
CREATE INDEX messaging_messages_created ON messaging_messages (tenant_id, created_at);
