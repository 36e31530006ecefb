-- The sign-in epoch (DESIGN.md "Tokens"): every user has one, advanced in
-- the step that ends the user's sign-ins or changes the password; a sign-in
-- or a flow is stored only while the epoch it was started under is still
-- the user's. Existing users, sign-ins and flows start at epoch 0, which is
-- what every user has after this migration: nothing in flight is refused.
ALTER TABLE pbxauth_users ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pbxauth_families ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pbxauth_flows ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;
