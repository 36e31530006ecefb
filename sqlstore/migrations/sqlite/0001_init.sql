-- The first schema of pbxauth's SQLite store.
-- Times are unix microseconds (UTC); the zero time is -62135596800000000.
-- Booleans are 0 or 1. *_key columns hold the lower-cased value that is
-- unique or searched case-insensitively.

CREATE TABLE pbxauth_system (
	id                   INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
	web_domain           TEXT    NOT NULL,
	private_ipv4         TEXT    NOT NULL,
	public_ipv4          TEXT    NOT NULL,
	enable_ipv6          INTEGER NOT NULL,
	private_ipv6         TEXT    NOT NULL,
	public_ipv6          TEXT    NOT NULL,
	primary_dns_server   TEXT    NOT NULL,
	secondary_dns_server TEXT    NOT NULL,
	enable_two_factor    INTEGER NOT NULL
) STRICT;

CREATE TABLE pbxauth_tenants (
	id                   TEXT    NOT NULL PRIMARY KEY,
	name                 TEXT    NOT NULL,
	domain               TEXT    NOT NULL,
	domain_key           TEXT    NOT NULL UNIQUE,
	website              TEXT    NOT NULL,
	avatar_url           TEXT    NOT NULL,
	enable_two_factor    INTEGER NOT NULL,
	ms365                INTEGER NOT NULL, -- 0: no Microsoft settings, the ms365_* columns are empty
	ms365_application_id TEXT    NOT NULL,
	ms365_directory_id   TEXT    NOT NULL,
	ms365_client_secret  TEXT    NOT NULL,
	ms365_national_cloud TEXT    NOT NULL,
	ms365_issuer         TEXT    NOT NULL
) STRICT;

-- System users have tenant_id ''. No foreign key to the tenants: the Store
-- contract lets users and tenants be created in any order.
CREATE TABLE pbxauth_users (
	id                   TEXT    NOT NULL PRIMARY KEY,
	tenant_id            TEXT    NOT NULL,
	username             TEXT    NOT NULL,
	username_key         TEXT    NOT NULL,
	email                TEXT    NOT NULL,
	email_key            TEXT    NOT NULL,
	role                 TEXT    NOT NULL,
	password_hash        TEXT    NOT NULL,
	two_factor_enabled   INTEGER NOT NULL,
	password_force_reset INTEGER NOT NULL,
	disabled             INTEGER NOT NULL,
	UNIQUE (tenant_id, username_key)
) STRICT;
CREATE INDEX pbxauth_users_email ON pbxauth_users (tenant_id, email_key);

-- A family of a missing user is kept; Grant refuses its tokens.
CREATE TABLE pbxauth_families (
	id                TEXT    NOT NULL PRIMARY KEY,
	user_id           TEXT    NOT NULL,
	password_verified INTEGER NOT NULL,
	method            TEXT    NOT NULL,
	created_at        INTEGER NOT NULL,
	expires_at        INTEGER NOT NULL,
	revoked           INTEGER NOT NULL
) STRICT;
CREATE INDEX pbxauth_families_user ON pbxauth_families (user_id);
CREATE INDEX pbxauth_families_expires ON pbxauth_families (expires_at);

-- hash is the SHA-256 of the token; used_at is the zero time while fresh.
CREATE TABLE pbxauth_tokens (
	hash       BLOB    NOT NULL PRIMARY KEY,
	kind       INTEGER NOT NULL,
	family_id  TEXT    NOT NULL REFERENCES pbxauth_families (id) ON DELETE CASCADE,
	expires_at INTEGER NOT NULL,
	used_at    INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX pbxauth_tokens_family ON pbxauth_tokens (family_id);
CREATE INDEX pbxauth_tokens_expires ON pbxauth_tokens (expires_at);

CREATE TABLE pbxauth_flows (
	hash            BLOB    NOT NULL PRIMARY KEY,
	purpose         TEXT    NOT NULL,
	user_id         TEXT    NOT NULL,
	tenant_id       TEXT    NOT NULL,
	expires_at      INTEGER NOT NULL,
	code_hash       TEXT    NOT NULL,
	code_expires_at INTEGER NOT NULL,
	sends           INTEGER NOT NULL,
	last_sent_at    INTEGER NOT NULL,
	attempts        INTEGER NOT NULL,
	data            TEXT    NOT NULL,
	version         INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX pbxauth_flows_expires ON pbxauth_flows (expires_at);

CREATE TABLE pbxauth_counters (
	key          TEXT    NOT NULL PRIMARY KEY,
	count        INTEGER NOT NULL,
	locks        INTEGER NOT NULL,
	locked_until INTEGER NOT NULL,
	window_start INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	version      INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX pbxauth_counters_expires ON pbxauth_counters (expires_at);

CREATE TABLE pbxauth_identities (
	issuer  TEXT NOT NULL,
	subject TEXT NOT NULL,
	user_id TEXT NOT NULL,
	PRIMARY KEY (issuer, subject)
) STRICT, WITHOUT ROWID;
