-- Authenticator apps: one per user, pending until confirmed, with its
-- secret sealed (key id, nonce, AES-256-GCM) and the last time step it
-- accepted; and the keyed hashes of each user's unused recovery codes.
CREATE TABLE pbxauth_totp (
	user_id    TEXT    NOT NULL PRIMARY KEY,
	secret     BLOB    NOT NULL,
	active     INTEGER NOT NULL,
	last_step  INTEGER NOT NULL,
	created_at INTEGER NOT NULL -- unix microseconds
) STRICT;

CREATE TABLE pbxauth_recovery_codes (
	user_id TEXT NOT NULL,
	hash    TEXT NOT NULL,
	PRIMARY KEY (user_id, hash)
) STRICT, WITHOUT ROWID;
