-- Authenticator apps: one per user, pending until confirmed, with its
-- secret sealed (key id, nonce, AES-256-GCM) and the last time step it
-- accepted; and the keyed hashes of each user's unused recovery codes.
CREATE TABLE pbxauth_totp (
	user_id    TEXT    NOT NULL PRIMARY KEY,
	secret     BYTEA    NOT NULL,
	active     BOOLEAN NOT NULL,
	last_step  BIGINT  NOT NULL,
	created_at BIGINT  NOT NULL -- unix microseconds
);

CREATE TABLE pbxauth_recovery_codes (
	user_id TEXT NOT NULL,
	hash    TEXT NOT NULL,
	PRIMARY KEY (user_id, hash)
);
