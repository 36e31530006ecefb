-- The tenant setting passkey_satisfies_two_factor false
-- (store.Tenant.PasskeyNotTwoFactor): 0, the default, counts a passkey with
-- user verification as two factors.
ALTER TABLE pbxauth_tenants ADD COLUMN passkey_not_two_factor INTEGER NOT NULL DEFAULT 0;
