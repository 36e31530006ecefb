-- Cookie sessions kept by (*Store).SessionStore, so that a restart does not
-- sign every browser out. expiry is unix microseconds.

CREATE TABLE pbxauth_sessions (
	token  TEXT    NOT NULL PRIMARY KEY,
	data   BLOB    NOT NULL,
	expiry INTEGER NOT NULL
);

CREATE INDEX pbxauth_sessions_expiry_idx ON pbxauth_sessions (expiry);
