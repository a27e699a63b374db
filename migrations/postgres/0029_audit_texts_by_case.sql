-- The search's orders (`GET /v1/search`): the newest texts first, of the tenant or of one
-- case. A common word then reads the newest texts until it has its page, not all of them.
CREATE INDEX audit_texts_by_time ON audit_texts (tenant_id, at);
CREATE INDEX audit_texts_by_case ON audit_texts (tenant_id, case_id, at);
