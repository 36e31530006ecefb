package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/store"
)

// startExample runs the example server with args on a free port and returns
// its base URL; it stops at the end of the test.
func startExample(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0", "-db", "memory"}, args...), func(k string) string { return env[k] }, pw)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if url, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				lines <- url
			}
		}
		close(lines)
	}()
	select {
	case url, ok := <-lines:
		if !ok {
			err := <-done
			done <- err // for the cleanup, which waits for it too
			t.Fatalf("example ended before listening: %v", err)
		}
		return url
	case <-time.After(30 * time.Second):
		t.Fatal("example did not print its listening line")
	}
	return ""
}

func TestExampleServesTheAPI(t *testing.T) {
	url := startExample(t, map[string]string{"PBXAUTH_ADMIN_PASSWORD": "admin-pw-12345"})
	c := apitest.NewClient(t, url)
	info := c.Do("GET", "/info?domain=acme.example.test", nil)
	if info.Status != 200 || info.String("web_domain") != "pbx.example.test" || info.String("name") != "Acme" {
		t.Fatalf("info: %d %s", info.Status, info.Body)
	}
	r := c.Do("POST", "/auth/sign_in", map[string]string{"username": "admin", "password": "admin-pw-12345"})
	if r.Status != 200 {
		t.Fatalf("sign_in: %d %s", r.Status, r.Body)
	}
	u := c.Do("GET", "/auth/user", nil, apitest.Bearer(r.String("access_token"))...)
	if u.Status != 200 || u.String("role") != "SystemAdmin" {
		t.Fatalf("user: %d %s", u.Status, u.Body)
	}
	if r := c.Do("POST", "/auth/sign_in", map[string]string{"username": "alice", "password": "alice-pw-123", "domain": "acme.example.test"}); r.Status != 200 || r.JSON()["two_factor_enabled"] != true {
		t.Fatalf("alice needs a second factor: %d %s", r.Status, r.Body)
	}
}

func TestExampleRefusesReservedTenantUser(t *testing.T) {
	s := &seedFile{Users: []seedUser{{Username: "Root", Domain: "acme.example.test", Password: "x-pw-12345678"}}}
	err := createUser(context.Background(), nil, nil, s.Users[0], "", io.Discard)
	if err == nil || !strings.Contains(err.Error(), "reserved") {
		t.Fatalf("err = %v", err)
	}
}

// TestExampleKeepsSQLiteData: with -db sqlite:PATH, a restart keeps the
// seeded users (the admin password is generated once) and the tokens.
func TestExampleKeepsSQLiteData(t *testing.T) {
	db := "sqlite:" + t.TempDir() + "/pbxauth.db"
	var out strings.Builder
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	pr, pw := io.Pipe()
	go func() {
		first <- run(ctx, []string{"-addr", "127.0.0.1:0", "-db", db}, func(string) string { return "" }, pw)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var url, password string
	for sc.Scan() {
		line := sc.Text()
		out.WriteString(line + "\n")
		if p, ok := strings.CutPrefix(line, "generated password for admin: "); ok {
			password = p
		}
		if u, ok := strings.CutPrefix(line, "listening on "); ok {
			url = u
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if password == "" || url == "" {
		t.Fatalf("first start printed:\n%s", out.String())
	}
	c := apitest.NewClient(t, url)
	r := c.Do("POST", "/auth/sign_in", map[string]string{"username": "admin", "password": password})
	if r.Status != 200 {
		t.Fatalf("sign_in: %d %s", r.Status, r.Body)
	}
	access := r.String("access_token")
	cancel()
	if err := <-first; err != nil {
		t.Fatal(err)
	}

	url = startExample(t, nil, "-db", db)
	c = apitest.NewClient(t, url)
	if r := c.Do("GET", "/auth/user", nil, apitest.Bearer(access)...); r.Status != 200 {
		t.Errorf("token after restart: %d", r.Status)
	}
	if r := c.Do("POST", "/auth/sign_in", map[string]string{"username": "admin", "password": password}); r.Status != 200 {
		t.Errorf("generated password after restart: %d", r.Status)
	}
}

// TestExampleSeedFile: a seed file's system settings reach /info, and its
// system-wide second factor applies to system users without being served.
func TestExampleSeedFile(t *testing.T) {
	path := t.TempDir() + "/seed.json"
	seed := `{"system": {"web_domain": "pbx.seed.test", "primary_dns_server": "9.9.9.9", "enable_two_factor_authentication": true},
		"users": [{"username": "root", "password": "root-pw-12345", "role": "SystemAdmin", "email": "root@seed.test"}]}`
	if err := os.WriteFile(path, []byte(seed), 0o600); err != nil {
		t.Fatal(err)
	}
	c := apitest.NewClient(t, startExample(t, nil, "-seed", path))
	info := c.Do("GET", "/info", nil)
	if info.String("web_domain") != "pbx.seed.test" || info.String("primary_dns_server") != "9.9.9.9" {
		t.Fatalf("info: %s", info.Body)
	}
	if _, ok := info.JSON()["enable_two_factor_authentication"]; ok {
		t.Errorf("/info serves the second-factor switch: %s", info.Body)
	}
	r := c.Do("POST", "/auth/sign_in", map[string]string{"username": "root", "password": "root-pw-12345"})
	if r.Status != 200 || r.JSON()["two_factor_enabled"] != true {
		t.Fatalf("system-wide second factor: %d %s", r.Status, r.Body)
	}
}

// TestExampleSeedMicrosoftSettings: the seed's ms365 additions reach the
// store, the secret sealed with the key, and a certificate whose key does
// not belong to it stops the start.
func TestExampleSeedMicrosoftSettings(t *testing.T) {
	st := memstore.New()
	ctx := context.Background()
	a, err := pbxauth.New(pbxauth.Config{Store: st, EncryptionKeys: [][]byte{make([]byte, 32)}})
	if err != nil {
		t.Fatal(err)
	}
	tn := seedTenant{Name: "Entra", Domain: "entra.example.test"}
	tn.MS365 = &seedMS365{ApplicationID: "app", DirectoryID: "dir", ClientSecret: "s3cret-of-the-seed", MatchPreferredUsername: true}
	if err := createTenant(ctx, a, tn); err != nil {
		t.Fatal(err)
	}
	got, err := st.TenantByDomain(ctx, "entra.example.test")
	if err != nil || got.MS365 == nil || !got.MS365.MatchPreferredUsername || got.Name != "Entra" {
		t.Fatalf("seeded tenant %+v, %v", got.MS365, err)
	}
	if !strings.HasPrefix(got.MS365.ClientSecret, store.SealedPrefix) || strings.Contains(got.MS365.ClientSecret, "s3cret") {
		t.Errorf("the seeded secret is stored as %q, want it sealed", got.MS365.ClientSecret)
	}
	if err := createTenant(ctx, a, tn); err != nil {
		t.Errorf("seeding a tenant again: %v, want nothing done", err)
	}
	tn.Domain = "broken.example.test"
	tn.MS365.ClientCertificate, tn.MS365.ClientPrivateKey = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "not a key"
	if err := createTenant(ctx, a, tn); err == nil || !strings.Contains(err.Error(), "certificate") || !strings.Contains(err.Error(), `seed tenant "broken.example.test"`) {
		t.Errorf("a broken certificate credential: %v, want a refusal naming the certificate", err)
	}
}

// TestExampleSaysAdminPasswordIgnored: seeding never overwrites, and says so
// when PBXAUTH_ADMIN_PASSWORD names a password for an admin that exists.
func TestExampleSaysAdminPasswordIgnored(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	a, err := pbxauth.New(pbxauth.Config{Store: st, Argon2: pbxauth.Argon2Params{Memory: 64, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	admin := seedUser{Username: "admin", Role: "SystemAdmin", Email: "root@example.test"}
	var out strings.Builder
	if err := createUser(ctx, a, st, admin, "first-pw-12345", &out); err != nil || out.Len() != 0 {
		t.Fatalf("first seeding: %v, printed %q", err, out.String())
	}
	if err := createUser(ctx, a, st, admin, "second-pw-12345", &out); err != nil || !strings.Contains(out.String(), "PBXAUTH_ADMIN_PASSWORD ignored") {
		t.Errorf("second seeding: %v, printed %q", err, out.String())
	}
}
