// Tests of the example's Microsoft commands: a tenant's Microsoft settings and
// sign-in rules, and users' bindings to Microsoft accounts.

package main

import (
	"errors"
	"flag"
	"path/filepath"
	"strings"
	"testing"
)

// TestExampleMs365Commands drives "tenant ms365|ms365-set" and "user
// ms365-bind|ms365-unbind" on a SQLite database: -h of each, refusals that
// change nothing, and the settings and binding they store.
func TestExampleMs365Commands(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "pbxauth.db")
	for _, cmd := range []string{"ms365", "ms365-set"} {
		if out, err := tenant(t, db, cmd, "-h"); !errors.Is(err, flag.ErrHelp) || !strings.Contains(out, "usage: example tenant "+cmd) {
			t.Errorf("tenant %s -h: %v\n%s", cmd, err, out)
		}
	}
	for _, cmd := range []string{"ms365-bind", "ms365-unbind"} {
		if out, err := user(t, db, cmd, "-h"); !errors.Is(err, flag.ErrHelp) || !strings.Contains(out, "usage: example user "+cmd) || !strings.Contains(out, "-domain") {
			t.Errorf("user %s -h: %v\n%s", cmd, err, out)
		}
	}
	mustCLI(t, tenant, db, []string{"created tenant"}, "add", "-name", "Globex", "globex.example.test")
	mustCLI(t, user, db, []string{"created erin@globex.example.test"}, "add", "-domain", "globex.example.test", "-role", "StandardUser", "erin")
	mustCLI(t, tenant, db, []string{"directory id:", "national cloud:", "GLOBAL", "admin rule:", "ALL", "user rule:", "ALL"}, "ms365", "globex.example.test")
	for _, bad := range [][]string{
		{"ms365-set", "-directory-id", "common", "globex.example.test"},
		{"ms365-set", "-national-cloud", "MARS", "globex.example.test"},
		{"ms365-set", "-user-rule", "SOME", "globex.example.test"},
		{"ms365-set", "-user-rule", "ALL:erin@contoso.example", "globex.example.test"},
		{"ms365-set", "-admin-rule", "INCLUDE:erin", "globex.example.test"},
		{"ms365", "nowhere.example.test"},
	} {
		if out, err := tenant(t, db, bad...); err == nil {
			t.Errorf("tenant %q succeeded:\n%s", bad, out)
		}
	}
	for _, bad := range [][]string{
		{"ms365-bind", "-domain", "globex.example.test", "-account", "erin", "erin"},
		{"ms365-bind", "-domain", "globex.example.test", "-account", "erin@contoso.example", "nobody"},
	} {
		if out, err := user(t, db, bad...); err == nil {
			t.Errorf("user %q succeeded:\n%s", bad, out)
		}
	}
	mustCLI(t, tenant, db, []string{"directory id:", "9b2d1c7e-3f4a-4b5c-8d6e-0a1b2c3d4e5f", "application id:", "app-id",
		"admin rule:", "off", "user rule:", "INCLUDE:erin@contoso.example,0f8fad5b-d9cb-469f-a165-70867728950e"},
		"ms365-set", "-directory-id", "9b2d1c7e-3f4a-4b5c-8d6e-0a1b2c3d4e5f", "-application-id", "app-id", "-admin-rule", "off",
		"-user-rule", "INCLUDE:erin@contoso.example, 0f8fad5b-d9cb-469f-a165-70867728950e", "globex.example.test")
	mustCLI(t, user, db, []string{"bound erin@globex.example.test to the Microsoft account erin@contoso.example"},
		"ms365-bind", "-domain", "globex.example.test", "-account", "erin@contoso.example", "erin")
	mustCLI(t, user, db, []string{"unbound erin@globex.example.test from Microsoft"}, "ms365-unbind", "-domain", "globex.example.test", "erin")
}
