-- The console's people (issue 16): users of one organization, distinct from API keys,
-- read by the gateway to sign them in. Written by casewire_people::Directory from the
-- `user` aggregate's events; emails are unique within a tenant by the aggregate (a
-- user's id is made from the tenant and the email).
CREATE TABLE console_users (
    tenant_id       TEXT NOT NULL,
    id              TEXT NOT NULL,
    email           TEXT NOT NULL,
    name            TEXT NOT NULL,
    role            TEXT NOT NULL,
    advocate_id     TEXT,
    invitation_hash TEXT,
    invited_until   TEXT,
    password_hash   TEXT,
    locked_until    TEXT,
    created_at      TEXT NOT NULL,
    removed_at      TEXT,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX console_users_by_email ON console_users (email);
CREATE INDEX console_users_by_invitation ON console_users (invitation_hash);

-- Sessions signed in and not out, by the hash of the cookie's token. `seen_at` is the
-- gateway's own bookkeeping for the idle timeout (not an event: a page view is not a
-- fact of the trail).
CREATE TABLE console_sessions (
    token_hash TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    seen_at    TEXT NOT NULL
);
CREATE INDEX console_sessions_by_user ON console_sessions (tenant_id, user_id);

-- Failed sign-ins per address in the current window: the per-address throttle, which
-- also counts emails that belong to no one. Operational state, not events.
CREATE TABLE console_address_failures (
    address      TEXT PRIMARY KEY,
    window_start TEXT NOT NULL,
    failures     INTEGER NOT NULL
);
