-- Two-step sign-in (issue 16): a person's TOTP secret, as the log seals it (opened only
-- to check a code at sign-in).
ALTER TABLE console_users ADD COLUMN totp_secret TEXT;
