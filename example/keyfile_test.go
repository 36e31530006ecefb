package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/sqlstore"
	"github.com/pbxauth/pbxauth/store"
)

// tempSQLite opens a new SQLite database in dir, closed at the test's end.
func tempSQLite(t *testing.T, dir string) (string, *sqlstore.Store) {
	t.Helper()
	db := "sqlite:" + filepath.Join(dir, "pbxauth.db")
	st, err := openSQL(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return db, st
}

func TestEncryptionKeys(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, st := tempSQLite(t, dir)
	path := keyFileFor(db)
	if path != filepath.Join(dir, "pbxauth.key") {
		t.Fatalf("default key file %q", path)
	}
	first, err := encryptionKeys(ctx, path, db, st)
	if err != nil || len(first) != 1 || len(first[0]) != 32 {
		t.Fatalf("first start: %v, %v", first, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file %v, %v: want mode 0600", fi, err)
	}
	again, err := encryptionKeys(ctx, path, db, st)
	if err != nil || !bytes.Equal(again[0], first[0]) {
		t.Errorf("second start: a different key or %v", err)
	}
	// Processes starting together on a new database agree on one key.
	fresh := filepath.Join(t.TempDir(), "pbxauth.key")
	keys := make([][][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() { keys[i], _ = encryptionKeys(ctx, fresh, db, memstore.New()) })
	}
	wg.Wait()
	for i, k := range keys {
		if len(k) != 1 || !bytes.Equal(k[0], keys[0][0]) {
			t.Fatalf("start %d got key %x, start 0 %x", i, k, keys[0])
		}
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(fresh), ".pbxauth-key-*")); len(left) != 0 {
		t.Errorf("temporary key files left: %v", left)
	}
	// A lost key file with sealed secrets in the database stops the start.
	if err := st.PutPendingTOTP(ctx, store.TOTP{UserID: "u1", Secret: []byte("sealed")}); err != nil {
		t.Fatal(err)
	}
	os.Remove(path)
	if _, err := encryptionKeys(ctx, path, db, st); err == nil || !strings.Contains(err.Error(), "restore") {
		t.Errorf("a lost key with secrets: %v", err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("a new key file was made over sealed secrets")
	}
	os.WriteFile(path, []byte("short\n"), 0o600)
	if _, err := encryptionKeys(ctx, path, db, st); err == nil {
		t.Error("a malformed key file was accepted")
	}
	if k, err := encryptionKeys(ctx, "", "memory", memstore.New()); err != nil || len(k) != 1 {
		t.Errorf("memory: %v, %v; want a random key", k, err)
	}
	if k, err := encryptionKeys(ctx, keyFileFor("postgres://x"), "postgres://x", nil); err != nil || k != nil {
		t.Errorf("PostgreSQL without -key-file: %v, %v; want none", k, err)
	}
}

// A tenant's sealed Microsoft credential, or its generated certificate's
// key, needs its key as an authenticator secret does: a new key is not
// made over it.
func TestEncryptionKeysKeptForSealedTenants(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, st := tempSQLite(t, dir)
	for i, field := range []func(*store.MS365){
		func(m *store.MS365) { m.ClientSecret = store.SealedPrefix + "AAAA" },
		func(m *store.MS365) { m.ClientCertificate, m.ClientPrivateKey = "cert", store.SealedPrefix+"AAAA" },
	} {
		m := &store.MS365{ApplicationID: "app"}
		field(m)
		tn := store.Tenant{ID: fmt.Sprint("t", i), Name: "T", Domain: fmt.Sprintf("t%d.example.test", i), MS365: m}
		if err := st.CreateTenant(ctx, tn); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, fmt.Sprint("key", i))
		if _, err := encryptionKeys(ctx, path, db, st); err == nil || !strings.Contains(err.Error(), "restore") {
			t.Errorf("a lost key with a sealed Microsoft credential: %v", err)
		}
		if _, err := os.Stat(path); err == nil {
			t.Error("a new key file was made over sealed credentials")
		}
		if err := st.UpdateTenant(ctx, store.Tenant{ID: tn.ID, Name: "T", Domain: tn.Domain}); err != nil {
			t.Fatal(err)
		}
	}
	// A generated certificate's key, the tenant's settings holding none.
	if err := st.ReplaceMS365Current(ctx, store.MS365Credentials{TenantID: "t0",
		Current: store.MS365Credential{ClientCertificate: "cert", ClientPrivateKey: store.SealedPrefix + "AAAA"}}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "key-cert")
	if _, err := encryptionKeys(ctx, path, db, st); err == nil || !strings.Contains(err.Error(), "restore") {
		t.Errorf("a lost key with a generated certificate's sealed key: %v", err)
	}
}
