// Tests that GET /auth/user's own JSON writer writes byte for byte what
// encoding/json writes, or leaves the answer to it.

package pbxauth

import (
	"encoding/json"
	"testing"
)

func TestUserAuthInfoJSONIsEncodingJSON(t *testing.T) {
	texts := []string{"", "admin", "SystemAdmin", "alice.smith@acme.example.test", "a b", "~!#$%'()*+,-./:;=?@[]^_`{|}",
		`quote"d`, `back\slash`, "<script>", "a&b", "a>b", "tab\there", "nl\n", "\x7f", "caf\u00e9", "\u2028", "\xff", "\x00"}
	fast := 0
	for _, name := range texts {
		for _, role := range texts {
			for _, flags := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
				u := userAuthInfo{Username: name, Role: role, PasswordVerified: flags[0], PasswordForceReset: flags[1]}
				want, err := json.Marshal(u)
				if err != nil {
					t.Fatal(err)
				}
				got, ok := u.appendJSON([]byte("prefix"))
				if !ok {
					if string(got) != "prefix" {
						t.Errorf("%+v: declined but appended %q", u, got)
					}
					continue
				}
				fast++
				if string(got) != "prefix"+string(want) {
					t.Errorf("%+v:\n got %s\nwant prefix%s", u, got, want)
				}
			}
		}
	}
	if fast != 4*6*6 { // every pair of the plain texts (the first six), and only those
		t.Errorf("only %d answers written without encoding/json", fast)
	}
}
