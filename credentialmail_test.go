// The notices of the credential routes: the user learns by mail of a
// password changed, a password set by an administrator, a username
// changed.

package pbxauth_test

import (
	"strings"
	"testing"

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
