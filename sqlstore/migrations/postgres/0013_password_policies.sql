-- Tenant password policies (PortSIP's object): at most one per tenant,
-- lengths in code points of the NFKC form. version counts the tenant's
-- stored policies: a change is written only over the version it read.
CREATE TABLE pbxauth_password_policies (
	tenant_id                     TEXT    NOT NULL PRIMARY KEY,
	min_length                    INTEGER NOT NULL,
	max_length                    INTEGER NOT NULL,
	contains_letters              BOOLEAN NOT NULL,
	contains_numbers              BOOLEAN NOT NULL,
	contains_special_letters      BOOLEAN NOT NULL,
	disable_sequential_characters BOOLEAN NOT NULL,
	disable_repeating_characters  BOOLEAN NOT NULL,
	disable_account_information   BOOLEAN NOT NULL,
	version                       BIGINT  NOT NULL
);
