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

// user runs "example -db db user args..." and returns what it printed.
func user(t *testing.T, db string, args ...string) (string, error) {
	return runCLI(db, "user", args...)
}

// mustUser is user that fails the test on an error, and checks the output.
func mustUser(t *testing.T, db, want string, args ...string) string {
	t.Helper()
	out, err := user(t, db, args...)
	if err != nil {
		t.Fatalf("user %q: %v\n%s", args, err, out)
	}
	if !strings.Contains(out, want) {
		t.Fatalf("user %q printed %q, want it to contain %q", args, out, want)
	}
	return out
}

func TestExampleUserCommands(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "pbxauth.db")
	pwFile := func(name, pw string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(pw+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	c := apitest.NewClient(t, startExample(t, map[string]string{"PBXAUTH_ADMIN_PASSWORD": "admin-pw-12345"}, "-db", db))
	signIn := func(pw string) *apitest.Response {
		return c.Do("POST", "/auth/sign_in", map[string]string{"username": "carol", "password": pw, "domain": "acme.example.test"})
	}

	for _, cmd := range []string{"add", "passwd", "disable", "reset-passkeys", "enable", "unlock", "sessions", "signout-all"} {
		out, err := user(t, db, cmd, "-h")
		if !errors.Is(err, flag.ErrHelp) || !strings.Contains(out, "usage: example user "+cmd) || !strings.Contains(out, "-domain") {
			t.Errorf("user %s -h: %v\n%s", cmd, err, out)
		}
	}
	if out, err := user(t, db, "-h"); !errors.Is(err, flag.ErrHelp) || !strings.Contains(out, "signout-all") {
		t.Errorf("user -h: %v\n%s", err, out)
	}
	if _, err := user(t, db, "frobnicate", "carol"); err == nil {
		t.Error("an unknown subcommand succeeded")
	}
	for _, bad := range [][]string{
		{"add", "-domain", "acme.example.test", "-role", "Typo", "carol"},
		{"add", "-domain", "acme.example.test", "-role", "StandardUser", "bad name!"},
		{"add", "-domain", "acme.example.test", "-role", "StandardUser", "root"},
		{"add", "-domain", "nowhere.example.test", "-role", "StandardUser", "carol"},
		{"add", "-domain", "acme.example.test", "-role", "StandardUser", "-password-file", pwFile("short", "short"), "carol"},
		{"add", "-domain", "acme.example.test", "-role", "StandardUser"},
		{"passwd", "-domain", "acme.example.test", "nobody"},
	} {
		if out, err := user(t, db, bad...); err == nil {
			t.Errorf("user %q succeeded:\n%s", bad, out)
		}
	}

	mustUser(t, db, "created carol@acme.example.test (StandardUser)",
		"add", "-domain", "acme.example.test", "-role", "StandardUser", "-email", "carol@acme.example.test",
		"-password-file", pwFile("pw1", "carol-pw-123"), "carol")
	r := signIn("carol-pw-123")
	if r.Status != 200 {
		t.Fatalf("the added user's sign-in: %d %s", r.Status, r.Body)
	}
	access := r.String("access_token")
	out := mustUser(t, db, "127.0.0.1", "sessions", "-domain", "acme.example.test", "carol")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "ID") {
		t.Errorf("sessions printed:\n%s", out)
	}
	mustUser(t, db, "ended 1 sign-in(s) of carol@acme.example.test", "signout-all", "-domain", "acme.example.test", "carol")
	if r := c.Do("GET", "/auth/user", nil, apitest.Bearer(access)...); r.Status != 401 {
		t.Errorf("a token after signout-all: %d", r.Status)
	}
	mustUser(t, db, "has no live sign-ins", "sessions", "-domain", "acme.example.test", "carol")

	mustUser(t, db, "password of carol@acme.example.test changed",
		"passwd", "-domain", "acme.example.test", "-password-file", pwFile("pw2", "carol-pw-456"), "carol")
	if r := signIn("carol-pw-123"); r.Status != 401 {
		t.Errorf("the old password after passwd: %d", r.Status)
	}
	if r := signIn("carol-pw-456"); r.Status != 200 {
		t.Errorf("the new password after passwd: %d %s", r.Status, r.Body)
	}
	out = mustUser(t, db, "generated password for carol@acme.example.test: ", "passwd", "-domain", "acme.example.test", "carol")
	generated := strings.TrimSpace(out[strings.LastIndex(out, ": ")+2:])
	if r := signIn(generated); r.Status != 200 {
		t.Errorf("the generated password: %d %s", r.Status, r.Body)
	}

	mustUser(t, db, "disabled carol@acme.example.test", "disable", "-domain", "acme.example.test", "carol")
	if r := signIn(generated); r.Status != 401 {
		t.Errorf("a disabled user's sign-in: %d", r.Status)
	}
	mustUser(t, db, "enabled carol@acme.example.test", "enable", "-domain", "acme.example.test", "carol")
	if r := signIn(generated); r.Status != 200 {
		t.Errorf("an enabled user's sign-in: %d %s", r.Status, r.Body)
	}

	for range 5 {
		signIn("wrong-pw-123")
	}
	if r := signIn(generated); r.Status != 429 {
		t.Fatalf("a locked account: %d", r.Status)
	}
	mustUser(t, db, "unlocked carol@acme.example.test", "unlock", "-domain", "acme.example.test", "carol")
	if r := signIn(generated); r.Status != 200 {
		t.Errorf("after unlock: %d %s", r.Status, r.Body)
	}
	// A system user, and the global -db given after "user" too.
	out = mustUser(t, "memory", "created ops (Dealer)", "add", "-db", db, "-role", "Dealer", "ops")
	generated = strings.TrimSpace(out[strings.LastIndex(out, ": ")+2:])
	if r := c.Do("POST", "/auth/sign_in", map[string]string{"username": "ops", "password": generated}); r.Status != 200 {
		t.Errorf("sign-in of the added system user: %d %s", r.Status, r.Body)
	}
}

// TestExampleSeedHeldToTheAPIRules: a seed user with a role nobody has, or
// a password the policy refuses, stops the start, as CreateUser would.
func TestExampleSeedHeldToTheAPIRules(t *testing.T) {
	for _, u := range []string{
		`{"username": "carol", "domain": "acme.example.test", "password": "carol-pw-123", "role": "Typo"}`,
		`{"username": "carol", "domain": "acme.example.test", "password": "short", "role": "StandardUser"}`,
		`{"username": "carol", "password": "carol-pw-123", "role": "StandardUser"}`,
	} {
		path := filepath.Join(t.TempDir(), "seed.json")
		seed := `{"tenants": [{"name": "Acme", "domain": "acme.example.test"}], "users": [` + u + `]}`
		if err := os.WriteFile(path, []byte(seed), 0o600); err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-db", "memory", "-seed", path}, func(string) string { return "" }, &out)
		if err == nil || !strings.Contains(err.Error(), `seed user "carol"`) {
			t.Errorf("seed user %s: %v", u, err)
		}
	}
}
