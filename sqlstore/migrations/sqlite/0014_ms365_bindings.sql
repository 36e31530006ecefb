-- Microsoft bindings: an administrator binds a tenant user to one
-- Microsoft account, named by bind_key ("oid:" + object ID or "upn:" +
-- UPN, folded to lower case ASCII). A user has at most one binding, and a
-- key is bound to at most one user per tenant.
CREATE TABLE pbxauth_ms365_bindings (
	user_id   TEXT NOT NULL PRIMARY KEY,
	tenant_id TEXT NOT NULL,
	bind_key  TEXT NOT NULL,
	UNIQUE (tenant_id, bind_key)
) STRICT;

-- A tenant's rules of who may sign in with Microsoft (PortSIP's
-- sign_in_as_administrator and sign_in_as_standard_user): selections are
-- JSON arrays of object IDs or UPNs; booleans are 0 or 1. version counts
-- the tenant's stored rules: a change is written only over the version it
-- read. A tenant without a row has the default: both enabled, selecting
-- every account.
CREATE TABLE pbxauth_ms365_rules (
	tenant_id          TEXT    NOT NULL PRIMARY KEY,
	admin_enabled      INTEGER NOT NULL,
	admin_sync_type    TEXT    NOT NULL,
	admin_selected     TEXT    NOT NULL,
	standard_enabled   INTEGER NOT NULL,
	standard_sync_type TEXT    NOT NULL,
	standard_selected  TEXT    NOT NULL,
	version            INTEGER NOT NULL
) STRICT;
