-- Microsoft sign-in links accounts per tenant, and a user has at most one
-- link per tenant; tenants may authenticate to Entra ID with a certificate
-- and opt in to matching by preferred_username.
--
-- Existing links move to the tenant of their user. A user linked to more
-- than one account (possible before this migration, when a second account
-- claiming the same email was matched again) keeps none of them: which one
-- is the rightful owner cannot be told, so each signs in again and only an
-- account with a verified email is linked anew.
CREATE TABLE pbxauth_identities_per_tenant (
	tenant_id TEXT NOT NULL,
	issuer    TEXT NOT NULL,
	subject   TEXT NOT NULL,
	user_id   TEXT NOT NULL,
	PRIMARY KEY (tenant_id, issuer, subject),
	UNIQUE (tenant_id, user_id)
) STRICT, WITHOUT ROWID;

INSERT INTO pbxauth_identities_per_tenant (tenant_id, issuer, subject, user_id)
SELECT u.tenant_id, i.issuer, i.subject, i.user_id
FROM pbxauth_identities i JOIN pbxauth_users u ON u.id = i.user_id
WHERE (SELECT count(*) FROM pbxauth_identities j WHERE j.user_id = i.user_id) = 1;

DROP TABLE pbxauth_identities;
ALTER TABLE pbxauth_identities_per_tenant RENAME TO pbxauth_identities;

ALTER TABLE pbxauth_tenants ADD COLUMN ms365_client_certificate TEXT NOT NULL DEFAULT '';
ALTER TABLE pbxauth_tenants ADD COLUMN ms365_client_private_key TEXT NOT NULL DEFAULT '';
ALTER TABLE pbxauth_tenants ADD COLUMN ms365_match_preferred_username INTEGER NOT NULL DEFAULT 0;
