-- The trace a job was made in (W3C `traceparent`, `tracestate` as JSON), so the work it does
-- (a text's dispatch and its Twilio call) continues the trace of the request that made it.
ALTER TABLE jobs ADD COLUMN trace TEXT;
