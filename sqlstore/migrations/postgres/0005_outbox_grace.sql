-- The outbox of accepted mail requests (pbxauth.Outbox). A record holds no
-- token; flow_hash is the hash of the flow its latest attempt minted (32
-- zero bytes before the first). claim is '' and lease_until the zero time
-- while no worker holds the record.

CREATE TABLE pbxauth_outbox (
	id          TEXT   NOT NULL PRIMARY KEY,
	kind        TEXT   NOT NULL,
	data        TEXT   NOT NULL,
	created_at  BIGINT NOT NULL,
	next_at     BIGINT NOT NULL,
	attempts    BIGINT NOT NULL,
	flow_hash   BYTEA  NOT NULL,
	claim       TEXT   NOT NULL,
	lease_until BIGINT NOT NULL
);
CREATE INDEX pbxauth_outbox_due ON pbxauth_outbox (next_at);

-- Refresh grace as an idempotent retry: a rotation's successor refresh
-- token keeps its parent's hash and, while the grace window is open, the
-- random seed r from which a retry derives the same pair again (with the
-- presented token, which is not stored). grace_seed is empty once the
-- successor is used or the window has passed (the sweep erases it).

ALTER TABLE pbxauth_tokens ADD COLUMN parent      BYTEA  NOT NULL DEFAULT '';
ALTER TABLE pbxauth_tokens ADD COLUMN grace_seed  BYTEA  NOT NULL DEFAULT '';
ALTER TABLE pbxauth_tokens ADD COLUMN grace_until BIGINT NOT NULL DEFAULT -62135596800000000;
CREATE INDEX pbxauth_tokens_grace ON pbxauth_tokens (parent) WHERE length(grace_seed) > 0;

-- The sweep deletes revoked sign-ins; this finds them without a scan.
CREATE INDEX pbxauth_families_revoked ON pbxauth_families (id) WHERE revoked = TRUE;
