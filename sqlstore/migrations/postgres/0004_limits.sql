-- Known devices (OWASP device cookies): one row per device a user signed in
-- from, by the SHA-256 of its cookie's token; id stays across rotations.
-- The index on user_id serves the eviction of a user's least recently used
-- devices and DeleteDevices.

CREATE TABLE pbxauth_devices (
	id           TEXT   NOT NULL,
	hash         BYTEA  NOT NULL PRIMARY KEY,
	user_id      TEXT   NOT NULL,
	last_used_at BIGINT NOT NULL,
	expires_at   BIGINT NOT NULL
);
CREATE INDEX pbxauth_devices_user ON pbxauth_devices (user_id, last_used_at);
CREATE INDEX pbxauth_devices_expires ON pbxauth_devices (expires_at);
