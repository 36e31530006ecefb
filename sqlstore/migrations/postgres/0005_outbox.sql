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
