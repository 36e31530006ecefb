-- Passkeys (DESIGN.md "Passkeys (WebAuthn)"): a user's WebAuthn
-- credentials, each credential ID held by one user; the WebAuthn user
-- handle of each user that has had one (64 random bytes, made once); and
-- the passkey a sign-in was made with, so that deleting the passkey ends
-- it (NULL for the sign-ins of other methods, and all existing ones).
CREATE TABLE pbxauth_passkeys (
	id              TEXT    NOT NULL PRIMARY KEY,
	user_id         TEXT    NOT NULL,
	credential_id   BYTEA   NOT NULL UNIQUE,
	public_key      BYTEA   NOT NULL,
	algorithm       BIGINT  NOT NULL,
	sign_count      BIGINT  NOT NULL,
	backup_eligible BOOLEAN NOT NULL,
	backup_state    BOOLEAN NOT NULL,
	transports      TEXT    NOT NULL, -- separated by spaces
	aaguid          BYTEA   NOT NULL,
	name            TEXT    NOT NULL,
	created_at      BIGINT  NOT NULL, -- unix microseconds, as every time
	last_used_at    BIGINT  NOT NULL,
	disabled        BOOLEAN NOT NULL,
	disabled_reason TEXT    NOT NULL,
	disabled_at     BIGINT  NOT NULL
);
CREATE INDEX pbxauth_passkeys_user ON pbxauth_passkeys (user_id, created_at);

CREATE TABLE pbxauth_webauthn_handles (
	user_id TEXT  NOT NULL PRIMARY KEY,
	handle  BYTEA NOT NULL UNIQUE
);

ALTER TABLE pbxauth_families ADD COLUMN passkey_id TEXT;
