-- Every sign-in records when it was last used (to the minute), and the
-- address and user agent of the request that made it, for the list of
-- sessions (GET /auth/sessions). A sign-in made before this migration counts
-- as last used when it was made, with neither address nor agent.
ALTER TABLE pbxauth_families ADD COLUMN last_used_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE pbxauth_families ADD COLUMN client_ip TEXT NOT NULL DEFAULT '';
ALTER TABLE pbxauth_families ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
UPDATE pbxauth_families SET last_used_at = created_at;
