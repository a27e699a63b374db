-- A job woken while it runs (a campaign resumed, or given a recipient, while its sender is
-- at work) runs again when this run ends: each wake counts here, and a run that ends
-- removes its job only if nothing woke it meanwhile (jobs::wake).
ALTER TABLE jobs ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
