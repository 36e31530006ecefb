-- Tenants and users are listed a page at a time by their folded domain and
-- username, compared byte by byte whatever the database's locale
-- (store.DirectoryLister): these indexes keep those keys in that order
-- (COLLATE "C"), so that each page is read from an index rather than
-- sorted. SQLite compares text byte by byte already, and its unique
-- indexes on the keys serve the same queries.
CREATE INDEX pbxauth_tenants_list ON pbxauth_tenants (domain_key COLLATE "C");
CREATE INDEX pbxauth_users_list ON pbxauth_users (tenant_id, username_key COLLATE "C");
