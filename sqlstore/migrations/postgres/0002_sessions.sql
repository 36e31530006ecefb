-- Cookie sessions kept by scs's PostgreSQL store, so that several instances
-- share browser sessions: see (*Store).SessionStore. The columns are the
-- ones github.com/alexedwards/scs/postgresstore expects.

CREATE TABLE pbxauth_sessions (
	token  TEXT        NOT NULL PRIMARY KEY,
	data   BYTEA       NOT NULL,
	expiry TIMESTAMPTZ NOT NULL
);

CREATE INDEX pbxauth_sessions_expiry_idx ON pbxauth_sessions (expiry);
