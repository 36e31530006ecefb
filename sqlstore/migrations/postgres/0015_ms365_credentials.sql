-- Tenants' generated Microsoft certificates: the current credential (the
-- last certificate generated), the last credential a token call accepted
-- (known_good, empty strings when none), whether current was accepted, and
-- version, which counts the certificates stored: a new one is written only
-- over the version it read. Secrets and private keys are sealed by pbxauth
-- before they get here.
CREATE TABLE pbxauth_ms365_credentials (
	tenant_id              TEXT    NOT NULL PRIMARY KEY,
	current_secret         TEXT    NOT NULL,
	current_certificate    TEXT    NOT NULL,
	current_private_key    TEXT    NOT NULL,
	current_since          BIGINT  NOT NULL, -- unix microseconds
	confirmed              BOOLEAN NOT NULL,
	known_good_secret      TEXT    NOT NULL,
	known_good_certificate TEXT    NOT NULL,
	known_good_private_key TEXT    NOT NULL,
	version                BIGINT  NOT NULL
);
