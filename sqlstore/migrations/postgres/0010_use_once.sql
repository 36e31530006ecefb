-- Uses of sealed states (the OAuth state of a Microsoft sign-in travels
-- with the client, not here): one row per state used, by its purpose and
-- random id, kept until keep_until (its expiry plus a margin for clocks),
-- so that a state is accepted once. The index serves the sweep.
CREATE TABLE pbxauth_use_once (
	purpose    TEXT   NOT NULL,
	id         BYTEA  NOT NULL,
	keep_until BIGINT NOT NULL, -- unix microseconds
	PRIMARY KEY (purpose, id)
);
CREATE INDEX pbxauth_use_once_keep ON pbxauth_use_once (keep_until);
