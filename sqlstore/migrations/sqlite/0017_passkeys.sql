-- Passkeys (DESIGN.md "Passkeys (WebAuthn)"): a user's WebAuthn
-- credentials, each credential ID held by one user; the WebAuthn user
-- handle of each user that has had one (64 random bytes, made once); and
-- the passkey a sign-in was made with, so that deleting the passkey ends
-- it (NULL for the sign-ins of other methods, and all existing ones).
CREATE TABLE pbxauth_passkeys (
	id              TEXT    NOT NULL PRIMARY KEY,
	user_id         TEXT    NOT NULL,
	credential_id   BLOB    NOT NULL UNIQUE,
	public_key      BLOB    NOT NULL,
	algorithm       INTEGER NOT NULL,
	sign_count      INTEGER NOT NULL,
	backup_eligible INTEGER NOT NULL,
	backup_state    INTEGER NOT NULL,
	transports      TEXT    NOT NULL, -- separated by spaces
	aaguid          BLOB    NOT NULL,
	name            TEXT    NOT NULL,
	created_at      INTEGER NOT NULL, -- unix microseconds, as every time
	last_used_at    INTEGER NOT NULL,
	disabled        INTEGER NOT NULL,
	disabled_reason TEXT    NOT NULL,
	disabled_at     INTEGER NOT NULL
) STRICT;
CREATE INDEX pbxauth_passkeys_user ON pbxauth_passkeys (user_id, created_at);

CREATE TABLE pbxauth_webauthn_handles (
	user_id TEXT NOT NULL PRIMARY KEY,
	handle  BLOB NOT NULL UNIQUE
) STRICT;

ALTER TABLE pbxauth_families ADD COLUMN passkey_id TEXT;
