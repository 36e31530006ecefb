-- Usernames, domains and emails match with ASCII case folding only (A-Z to
-- a-z, every other byte equal): keys made earlier with Unicode case mapping
-- (which maps U+0130 to i, U+212A to k, U+017F to s) are made again.
-- SQLite's own lower() folds exactly A-Z (it has no Unicode case mapping
-- without the ICU extension, which this driver does not load). Keys that
-- were unique stay unique: ASCII folding merges fewer strings than the
-- mapping they were made with.
UPDATE pbxauth_users SET username_key = lower(username), email_key = lower(email);
UPDATE pbxauth_tenants SET domain_key = lower(domain);
