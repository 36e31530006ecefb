-- Usernames, domains and emails match with ASCII case folding only (A-Z to
-- a-z, every other byte equal): keys made earlier with Unicode case mapping
-- (which maps U+0130 to i, U+212A to k, U+017F to s) are made again.
-- translate() folds exactly A-Z whatever the database's locale, where lower()
-- would not. Keys that were unique stay unique: ASCII folding merges fewer
-- strings than the mapping they were made with.
UPDATE pbxauth_users SET
	username_key = translate(username, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'),
	email_key = translate(email, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz');
UPDATE pbxauth_tenants SET
	domain_key = translate(domain, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz');
