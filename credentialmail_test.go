// The notices of the credential routes: the user learns by mail of a
// password changed, a password set by an administrator, a username
// changed; the tenant's Admins, of an Admin's set on another Admin.

package pbxauth_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
)

func TestCredentialNotices(t *testing.T) {
	e := newMailEnv(t)
	alice, _ := e.signIn(t, aliceCreds())
	if r := e.c.Do("POST", "/user/password", changeBody(alicePW, "new-alice-pw-9"), apitest.Bearer(alice)...); r.Status != 200 {
		t.Fatalf("POST /user/password: %d %s", r.Status, r.Body)
	}
	if m := e.smtp.Receive(t); !strings.Contains(m.Text, "password was changed") || m.To[0] != aliceEmail {
		t.Errorf("change notice: %+v", m)
	}
	admin, _ := e.signIn(t, map[string]any{"username": "admin", "password": adminPW})
	if r := e.setPassword(admin, aliceID, "set-by-admin-1"); r.Status != 200 {
		t.Fatalf("POST /users/{id}/password: %d %s", r.Status, r.Body)
	}
	if m := e.smtp.Receive(t); !strings.Contains(m.Text, "administrator set a new password") || m.To[0] != aliceEmail {
		t.Errorf("set notice: %+v", m)
	}
	if r := e.rename(admin, "chief"); r.Status != 200 {
		t.Fatalf("POST /admin/username: %d %s", r.Status, r.Body)
	}
	if m := e.smtp.Receive(t); !strings.Contains(m.Text, "username admin was changed") || !strings.Contains(m.Text, "chief") || m.To[0] != "root@example.test" {
		t.Errorf("rename notice: %+v", m)
	}
}

// TestAdminSetOnAdminMailsTenantAdmins: an Admin's set of another Admin's
// password is mailed to that Admin and to every other Admin of the tenant
// (the actor too, so a stolen Admin session is seen by its owner); an
// Admin's set of a StandardUser's password, or a SystemAdmin's of an
// Admin's, mails only the user.
func TestAdminSetOnAdminMailsTenantAdmins(t *testing.T) {
	e := newMailEnv(t)
	var carolID string
	for _, u := range []pbxauth.NewUser{
		{Domain: acmeDomain, Username: "carol", Password: "carol-pw-1234", Email: "carol@acme.example.test", Role: pbxauth.RoleAdmin},
		{Domain: acmeDomain, Username: "erin", Password: "erin-pw-12345", Email: "erin@acme.example.test", Role: pbxauth.RoleAdmin},
		{Domain: acmeDomain, Username: "frank", Password: "frank-pw-1234", Email: "frank@acme.example.test", Role: pbxauth.RoleStandardUser},
		{Domain: "other.example.test", Username: "olga", Password: "olga-pw-1234", Email: "olga@other.example.test", Role: pbxauth.RoleAdmin},
	} {
		created, err := e.auth.CreateUser(t.Context(), u)
		if err != nil {
			t.Fatal(err)
		}
		if u.Username == "carol" {
			carolID = created.ID
		}
	}
	frank, err := e.auth.FindUser(t.Context(), acmeDomain, "frank")
	if err != nil {
		t.Fatal(err)
	}
	alice, _ := e.signIn(t, aliceCreds())
	admin, _ := e.signIn(t, map[string]any{"username": "admin", "password": adminPW})
	for _, c := range []struct {
		what, access, id, target string
		want                     []string // recipients, sorted
	}{
		{"an Admin on an Admin", alice, carolID, "carol@acme.example.test",
			[]string{"alice@acme.example.test", "carol@acme.example.test", "erin@acme.example.test"}},
		{"an Admin on a StandardUser", alice, frank.ID, "frank@acme.example.test", []string{"frank@acme.example.test"}},
		{"a SystemAdmin on an Admin", admin, carolID, "carol@acme.example.test", []string{"carol@acme.example.test"}},
	} {
		if r := e.setPassword(c.access, c.id, "set-by-someone-1"); r.Status != 200 {
			t.Fatalf("%s: %d %s", c.what, r.Status, r.Body)
		}
		var got []string
		for range c.want {
			m := e.smtp.Receive(t)
			got = append(got, m.To[0])
			own := strings.Contains(m.Text, "An administrator set a new password")
			toAdmins := strings.Contains(m.Text, "Administrator alice set a new password on the account carol")
			if own == toAdmins || own != (m.To[0] == c.target) {
				t.Errorf("%s: the notice to %s: %q", c.what, m.To[0], m.Text)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s mailed %q, want %q", c.what, got, c.want)
		}
	}
	e.auth.Close() // every notice is sent
	select {
	case m := <-e.smtp.Messages:
		t.Errorf("one notice too many: to %v: %q", m.To, m.Text)
	default:
	}
}
