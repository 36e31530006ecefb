-- Every change that can alter what Grant answers for an access token is
-- announced on the channel pbxauth_grants, so that the grant caches of all
-- instances (Options.GrantCache) drop what they hold of it. Triggers, not
-- the store's own statements, send the announcements: a host's own SQL on
-- these tables is caught too. NOTIFY is delivered at commit, and not at all
-- on rollback.
--
-- The channel is database-wide and several schemas may hold pbxauth tables,
-- so the payload names the schema beside the family or user changed; a
-- payload naming neither (TRUNCATE) stands for every grant of the schema.
--
-- pbxauth_tokens needs no trigger: the store never changes or deletes an
-- access token before it expires (there is no per-token revocation; a
-- sign-in ends by revoking its family), and a cached grant expires with its
-- token. A host deleting token rows itself must revoke the family instead.
-- NOTIFY with nobody listening costs a queue entry; the triggers run
-- whether or not any instance caches.

-- The one trigger function: a row trigger names the row's id under its
-- argument ('family' or 'user'); a statement trigger (TRUNCATE) names no row.
CREATE FUNCTION pbxauth_notify_grants() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_LEVEL = 'ROW' THEN
		PERFORM pg_notify('pbxauth_grants', json_build_object('schema', TG_TABLE_SCHEMA, TG_ARGV[0], OLD.id)::text);
	ELSE
		PERFORM pg_notify('pbxauth_grants', json_build_object('schema', TG_TABLE_SCHEMA)::text);
	END IF;
	RETURN NULL;
END
$$;

-- A family's change of anything but last_used_at: revocation, expiry, its
-- user, or any other column a Grant shows. TouchFamily writes last_used_at
-- alone, once a minute per sign-in in use; announcing those would empty the
-- caches of every sign-in once a minute.
CREATE TRIGGER pbxauth_families_notify_update AFTER UPDATE ON pbxauth_families
	FOR EACH ROW WHEN (to_jsonb(OLD) - 'last_used_at' IS DISTINCT FROM to_jsonb(NEW) - 'last_used_at')
	EXECUTE FUNCTION pbxauth_notify_grants('family');

-- Deleting a family that could still be granted. DeleteExpired deletes
-- expired and revoked ones, which no cache serves, by the thousand: they
-- are not announced. Times are unix microseconds.
CREATE TRIGGER pbxauth_families_notify_delete AFTER DELETE ON pbxauth_families
	FOR EACH ROW WHEN (NOT OLD.revoked AND OLD.expires_at > (extract(epoch FROM statement_timestamp()) * 1000000)::bigint)
	EXECUTE FUNCTION pbxauth_notify_grants('family');

-- Every field of a user shows in a Grant: its role, disabled, password,
-- tenant, name... Users change rarely; any real change is announced.
CREATE TRIGGER pbxauth_users_notify_update AFTER UPDATE ON pbxauth_users
	FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*)
	EXECUTE FUNCTION pbxauth_notify_grants('user');

CREATE TRIGGER pbxauth_users_notify_delete AFTER DELETE ON pbxauth_users
	FOR EACH ROW EXECUTE FUNCTION pbxauth_notify_grants('user');

-- Emptying a table announces every grant of the schema.
CREATE TRIGGER pbxauth_families_notify_truncate AFTER TRUNCATE ON pbxauth_families
	FOR EACH STATEMENT EXECUTE FUNCTION pbxauth_notify_grants();

CREATE TRIGGER pbxauth_users_notify_truncate AFTER TRUNCATE ON pbxauth_users
	FOR EACH STATEMENT EXECUTE FUNCTION pbxauth_notify_grants();
