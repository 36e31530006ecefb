-- The tenant setting passkey_satisfies_two_factor false
-- (store.Tenant.PasskeyNotTwoFactor): false, the default, counts a passkey
-- with user verification as two factors.
ALTER TABLE pbxauth_tenants ADD COLUMN passkey_not_two_factor BOOLEAN NOT NULL DEFAULT FALSE;
