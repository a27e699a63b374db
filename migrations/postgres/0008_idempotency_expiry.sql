-- Expiring a credential's old Idempotency-Keys (on each keyed POST) reads only the expired
-- rows, not every row the credential has kept for 24 hours.
CREATE INDEX gateway_idempotency_expiry ON gateway_idempotency (scope, created_at);
