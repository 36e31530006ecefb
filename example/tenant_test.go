package main

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbxauth/pbxauth/internal/apitest"
)

// tenant runs "example -db db tenant args..." and returns what it printed.
func tenant(t *testing.T, db string, args ...string) (string, error) {
	return runCLI(db, "tenant", args...)
}

// runCLI runs "example -db db group args..." and returns what it printed.
func runCLI(db, group string, args ...string) (string, error) {
	var out strings.Builder
	err := run(context.Background(), append([]string{"-db", db, group}, args...), func(string) string { return "" }, &out)
	return out.String(), err
}

// mustCLI runs one of the helpers above, fails the test on an error, and
// checks that the output holds each of want, in that order.
func mustCLI(t *testing.T, cli func(*testing.T, string, ...string) (string, error), db string, want []string, args ...string) string {
	t.Helper()
	out, err := cli(t, db, args...)
	if err != nil {
		t.Fatalf("%q: %v\n%s", args, err, out)
	}
	rest := out
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("%q printed\n%s\nwant it to hold, in order, %q", args, out, want)
		}
		rest = rest[i+len(w):]
	}
	return out
}

// TestExampleTenantAndListCommands drives "tenant add|list|show" and "user
// list|show" against a running server's database: what they create the
// server serves, what they list is in order, and a Microsoft secret given
// to them is in no file of the database.
func TestExampleTenantAndListCommands(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "pbxauth.db")
	db := "sqlite:" + dbPath
	secret := "Xy8Q~the-entra-secret-value"
	secretFile := filepath.Join(dir, "secret.txt")
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := apitest.NewClient(t, startExample(t, map[string]string{"PBXAUTH_ADMIN_PASSWORD": "admin-pw-12345"}, "-db", db))

	for _, cmd := range []string{"add", "list", "show", "ms365-cert"} {
		out, err := tenant(t, db, cmd, "-h")
		if !errors.Is(err, flag.ErrHelp) || !strings.Contains(out, "usage: example tenant "+cmd) {
			t.Errorf("tenant %s -h: %v\n%s", cmd, err, out)
		}
	}
	for _, cmd := range []string{"list", "show"} {
		out, err := user(t, db, cmd, "-h")
		if !errors.Is(err, flag.ErrHelp) || !strings.Contains(out, "usage: example user "+cmd) || !strings.Contains(out, "-domain") {
			t.Errorf("user %s -h: %v\n%s", cmd, err, out)
		}
	}
	if out, err := tenant(t, db, "-h"); !errors.Is(err, flag.ErrHelp) || !strings.Contains(out, "show") {
		t.Errorf("tenant -h: %v\n%s", err, out)
	}
	for _, bad := range [][]string{
		{"frobnicate"},
		{"add", "globex.example.test"},                    // no name
		{"add", "-name", "Globex", "globex example.test"}, // a space in the domain
		{"add", "-name", "Globex", "ACME.example.test"},   // taken, in another case
		{"add", "-name", "Globex"},                        // no domain
		{"add", "-name", "Globex", "-ms365-secret-file", secretFile, "globex.example.test"}, // no application
		{"add", "-name", "Globex", "-ms365-application-id", "app", "-ms365-national-cloud", "MARS", "globex.example.test"},
		{"show", "nowhere.example.test"},
		{"list", "extra"},
	} {
		if out, err := tenant(t, db, bad...); err == nil {
			t.Errorf("tenant %q succeeded:\n%s", bad, out)
		}
	}
	if out, _ := tenant(t, db, "list"); strings.Contains(out, "globex") {
		t.Fatalf("a refused add left a tenant:\n%s", out)
	}

	mustCLI(t, tenant, db, []string{"created tenant globex.example.test (Globex Corporation), id "},
		"add", "-name", "Globex Corporation", "-website", "https://globex.example.test", "-two-factor",
		"-ms365-application-id", "app-id", "-ms365-directory-id", "dir-id", "-ms365-issuer", "http://127.0.0.1:9/dir-id/v2.0",
		"-ms365-secret-file", secretFile, "globex.example.test")
	info := c.Do("GET", "/info?domain=GLOBEX.example.test", nil)
	if info.Status != 200 || info.String("name") != "Globex Corporation" || info.JSON()["enable_ms365_integration"] != true {
		t.Errorf("GET /info of the added tenant: %d %s", info.Status, info.Body)
	}
	for _, file := range []string{dbPath, dbPath + "-wal"} {
		data, err := os.ReadFile(file)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		if where := apitest.FindSecret(data, secret); where != "" {
			t.Errorf("%s holds the Microsoft secret (%s)", filepath.Base(file), where)
		}
	}
	mustCLI(t, tenant, db, []string{"DOMAIN", "acme.example.test", "Acme", "globex.example.test", "Globex Corporation", "true", "true"}, "list")
	out := mustCLI(t, tenant, db, []string{"domain:", "globex.example.test", "two factor:", "true", "application id:", "app-id",
		"credential:", "client secret (not shown)"}, "show", "Globex.Example.Test")
	if strings.Contains(out, secret) {
		t.Errorf("tenant show printed the secret:\n%s", out)
	}

	// Users, listed by username, and one shown.
	mustCLI(t, user, db, []string{"created carol@globex.example.test (Admin)"},
		"add", "-domain", "globex.example.test", "-role", "Admin", "-email", "carol@globex.example.test", "carol")
	mustCLI(t, user, db, []string{"USERNAME", "alice", "Admin", "bob", "StandardUser"}, "list", "-domain", "acme.example.test")
	out = mustCLI(t, user, db, []string{"carol", "Admin", "carol@globex.example.test"}, "list", "-domain", "globex.example.test")
	if strings.Contains(out, "alice") {
		t.Errorf("user list of globex lists acme's users:\n%s", out)
	}
	mustCLI(t, user, db, []string{"admin", "SystemAdmin"}, "list")
	if r := c.Do("POST", "/auth/sign_in", map[string]string{"username": "bob", "password": "bob-pw-1234", "domain": "acme.example.test"}); r.Status != 200 {
		t.Fatalf("bob's sign-in: %d %s", r.Status, r.Body)
	}
	mustCLI(t, user, db, []string{"user:", "bob@acme.example.test", "role:", "StandardUser", "password:", "set",
		"disabled:", "false", "live sign-ins:", "1"}, "show", "-domain", "acme.example.test", "bob")
	for _, bad := range [][]string{
		{"list", "-domain", "nowhere.example.test"},
		{"list", "bob"},
		{"show", "-domain", "acme.example.test", "nobody"},
		{"show", "-domain", "acme.example.test"},
	} {
		if out, err := user(t, db, bad...); err == nil {
			t.Errorf("user %q succeeded:\n%s", bad, out)
		}
	}
}

// TestExampleTenantPolicyCommand drives "tenant policy": without flags it
// prints the policy (pbxauth's default at first); each flag changes its own
// rule and the others keep their values; a refused change names its rule
// and changes nothing.
func TestExampleTenantPolicyCommand(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "pbxauth.db")
	mustCLI(t, tenant, db, []string{"created tenant globex.example.test"}, "add", "-name", "Globex", "globex.example.test")
	if out, err := tenant(t, db, "policy", "-h"); !errors.Is(err, flag.ErrHelp) || !strings.Contains(out, "-no-account-info") {
		t.Errorf("tenant policy -h: %v\n%s", err, out)
	}
	mustCLI(t, tenant, db, []string{"min length:", "8", "max length:", "256", "letters:", "false", "numbers:", "false"},
		"policy", "globex.example.test")
	mustCLI(t, tenant, db, []string{"min length:", "10", "max length:", "256", "numbers:", "true", "no account info:", "false"},
		"policy", "-min-length", "10", "-numbers", "GLOBEX.example.test")
	mustCLI(t, tenant, db, []string{"min length:", "10", "letters:", "true", "numbers:", "true"},
		"policy", "-letters", "globex.example.test")
	mustCLI(t, tenant, db, []string{"numbers:", "false"}, "policy", "-numbers=false", "globex.example.test")
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"policy", "-min-length", "6", "globex.example.test"}, "min_length must be at least 8"},
		{[]string{"policy", "-min-length", "20", "-max-length", "12", "globex.example.test"}, "must not be greater than max_length"},
		{[]string{"policy", "nowhere.example.test"}, "nowhere.example.test"},
	} {
		if out, err := tenant(t, db, bad.args...); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: %v\n%s, want an error naming %q", bad.args, err, out, bad.want)
		}
	}
	mustCLI(t, tenant, db, []string{"min length:", "10", "max length:", "256", "letters:", "true", "numbers:", "false"},
		"policy", "globex.example.test")
}

// TestExampleTenantMicrosoftCertificate drives "tenant ms365-cert": it
// generates a certificate whose private key no database file holds, and
// prints the certificate again later.
func TestExampleTenantMicrosoftCertificate(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "pbxauth.db")
	db := "sqlite:" + dbPath
	mustCLI(t, tenant, db, []string{"created tenant globex.example.test"}, "add", "-name", "Globex", "globex.example.test")
	for _, bad := range [][]string{
		{"ms365-cert", "globex.example.test"}, // none generated yet
		{"ms365-cert", "-generate", "nowhere.example.test"},
		{"ms365-cert"},
	} {
		if out, err := tenant(t, db, bad...); err == nil {
			t.Errorf("tenant %q succeeded:\n%s", bad, out)
		}
	}
	certFile := filepath.Join(dir, "globex.example.test.cer")
	mustCLI(t, tenant, db, []string{"wrote " + certFile, "confirmed by Entra: false", "the earlier credential stands in: false"},
		"ms365-cert", "-generate", "-o", certFile, "globex.example.test")
	written, err := os.ReadFile(certFile)
	if err != nil || !strings.HasPrefix(string(written), "-----BEGIN CERTIFICATE-----") {
		t.Fatalf("the certificate file: %v %q", err, written)
	}
	if out := mustCLI(t, tenant, db, nil, "ms365-cert", "globex.example.test"); out != string(written) {
		t.Errorf("tenant ms365-cert printed\n%s\nwant the certificate written before", out)
	}
	for _, file := range []string{dbPath, dbPath + "-wal"} {
		data, err := os.ReadFile(file)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		if strings.Contains(string(data), "PRIVATE KEY") {
			t.Errorf("%s holds the certificate's private key", filepath.Base(file))
		}
	}
}
