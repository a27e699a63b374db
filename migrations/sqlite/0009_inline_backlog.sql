-- Where each service's inline projections took over, per tenant: events up to `seq` may
-- have been appended by a version that did not write their inline rows, so the service's
-- reader applies those itself; every later event had its rows written with its append.
-- Fixed once, here, for messaging (the service with inline projections). A reader that
-- took the head at its own start instead would apply events that the appends of this
-- version had already applied, after newer ones, and undo them (a cancelled reminder
-- shown as scheduled again). A projection made inline later comes with a migration like
-- this one.
CREATE TABLE inline_backlog (
    name      TEXT   NOT NULL,
    tenant_id TEXT   NOT NULL,
    seq       BIGINT NOT NULL,
    PRIMARY KEY (name, tenant_id)
);
INSERT INTO inline_backlog (name, tenant_id, seq)
SELECT 'messaging', tenant_id, seq FROM chain_heads;
