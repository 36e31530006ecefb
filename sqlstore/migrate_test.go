// This file checks the migrations: recorded once, a no-op when the schema is
// current, and safe when several processes open a new database at once.

package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/pbxauth/pbxauth/sqlstore"
	"github.com/pbxauth/pbxauth/store"
)

// migrationRow is one row of pbxauth_schema_migrations.
type migrationRow struct {
	version   int64
	name      string
	appliedAt int64
}

func migrationRows(t *testing.T, st *sqlstore.Store) []migrationRow {
	t.Helper()
	rows, err := st.DB().Query(`SELECT version, name, applied_at FROM pbxauth_schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ms []migrationRow
	for rows.Next() {
		var m migrationRow
		if err := rows.Scan(&m.version, &m.name, &m.appliedAt); err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ms
}

// wantMigrations are each dialect's migrations as NNNN_name, in order.
var wantMigrations = map[string][]string{
	"sqlite":   {"0001_init", "0002_sessions", "0003_identities_per_tenant", "0004_limits", "0005_outbox_grace", "0006_sign_in_records", "0007_totp", "0009_sign_in_epoch", "0010_use_once", "0011_ascii_keys", "0013_password_policies", "0017_passkeys", "0018_tenant_passkey_setting"},
	"postgres": {"0001_init", "0002_sessions", "0003_identities_per_tenant", "0004_limits", "0005_outbox_grace", "0006_sign_in_records", "0007_totp", "0008_grant_notify", "0009_sign_in_epoch", "0010_use_once", "0011_ascii_keys", "0012_list_order", "0013_password_policies", "0017_passkeys", "0018_tenant_passkey_setting"},
}

func TestMigrations(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		dsn := b.fresh(t)
		first := migrationRows(t, open(t, dsn))
		want := wantMigrations[b.name]
		if len(first) != len(want) {
			t.Fatalf("migrations recorded = %+v; want %v", first, want)
		}
		for i, m := range first {
			if fmt.Sprintf("%04d_%s", m.version, m.name) != want[i] || m.appliedAt == 0 {
				t.Fatalf("migrations recorded = %+v; want %v", first, want)
			}
		}
		addUser(t, open(t, dsn), "u1")
		st := open(t, dsn)
		if again := migrationRows(t, st); !slices.Equal(again, first) {
			t.Errorf("migrations after opening again = %+v; want %+v unchanged", again, first)
		}
		if _, err := st.User(context.Background(), "u1"); err != nil {
			t.Errorf("a user stored before opening again: %v", err)
		}
	})
}

// TestConcurrentOpen opens one new database from several goroutines at once,
// as processes starting together would: all succeed, and the schema is made
// once.
func TestConcurrentOpen(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		dsn := b.fresh(t)
		const n = 4
		stores := make([]*sqlstore.Store, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { stores[i], errs[i] = openDSN(context.Background(), dsn, sqlstore.Options{}) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("Open %d: %v", i, err)
				continue
			}
			t.Cleanup(func() { stores[i].Close() })
		}
		if t.Failed() {
			return
		}
		if ms := migrationRows(t, stores[0]); len(ms) != len(wantMigrations[b.name]) {
			t.Errorf("migrations recorded = %+v; want one", ms)
		}
	})
}

// TestMigrateIdentitiesPerTenant opens a database whose links were made
// before they were kept per tenant: each moves to its user's tenant, and a
// user linked to two accounts (the takeover the change closes) keeps neither.
func TestMigrateIdentitiesPerTenant(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		dsn := b.fresh(t)
		st := open(t, dsn)
		ctx := context.Background()
		addUser(t, st, "u1") // of tenant t1
		addUser(t, st, "u2")
		db := st.DB()
		// Back to the schema before migration 3, with old-shape links.
		for _, q := range []string{
			`DROP TABLE pbxauth_identities`,
			`CREATE TABLE pbxauth_identities (issuer TEXT NOT NULL, subject TEXT NOT NULL, user_id TEXT NOT NULL, PRIMARY KEY (issuer, subject))`,
			`INSERT INTO pbxauth_identities VALUES ('iss', 'alice', 'u1'), ('iss', 'bob', 'u2'), ('iss', 'mallory', 'u2'), ('iss', 'ghost', 'u9')`,
			`ALTER TABLE pbxauth_tenants DROP COLUMN ms365_client_certificate`,
			`ALTER TABLE pbxauth_tenants DROP COLUMN ms365_client_private_key`,
			`ALTER TABLE pbxauth_tenants DROP COLUMN ms365_match_preferred_username`,
			`DELETE FROM pbxauth_schema_migrations WHERE version = 3`,
		} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		st = open(t, dsn)
		if id, err := st.IdentityUser(ctx, "t1", "iss", "alice"); err != nil || id != "u1" {
			t.Errorf("IdentityUser of a migrated link = %q, %v; want u1", id, err)
		}
		for _, sub := range []string{"bob", "mallory", "ghost"} {
			if id, err := st.IdentityUser(ctx, "t1", "iss", sub); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("IdentityUser(%s) after the migration = %q, %v; want ErrNotFound", sub, id, err)
			}
		}
		// u2 may now link again, once.
		if err := st.LinkIdentity(ctx, store.Identity{TenantID: "t1", Issuer: "iss", Subject: "bob", UserID: "u2"}); err != nil {
			t.Errorf("LinkIdentity after the migration: %v", err)
		}
		if err := st.CreateTenant(ctx, store.Tenant{ID: "t9", Domain: "t9.test",
			MS365: &store.MS365{ApplicationID: "a", ClientCertificate: "CERT", ClientPrivateKey: "KEY", MatchPreferredUsername: true}}); err != nil {
			t.Fatal(err)
		}
		if tn, err := st.Tenant(ctx, "t9"); err != nil || tn.MS365 == nil || tn.MS365.ClientCertificate != "CERT" ||
			tn.MS365.ClientPrivateKey != "KEY" || !tn.MS365.MatchPreferredUsername {
			t.Errorf("Tenant with the new Microsoft settings = %+v, %v", tn.MS365, err)
		}
	})
}
