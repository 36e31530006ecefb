package pbxauth_test

import (
	"fmt"
	"testing"
)

// TestDuplicateKeyUnicodeFolding is the attack on a duplicate-key check
// that folds with strings.ToLower: encoding/json matches "uſername"
// (U+017F, long s) to the field username, so a second, differently spelled
// key would silently win. Every such pair is a 400, and nothing signs in.
func TestDuplicateKeyUnicodeFolding(t *testing.T) {
	e := newEnv(t)
	for _, body := range []string{
		`{"username":"x","uſername":"alice","password":"alice-pw-123","domain":"acme.example.test"}`,
		`{"uſername":"alice","username":"x","password":"alice-pw-123","domain":"acme.example.test"}`,
		`{"username":"alice","USERNAME":"alice","password":"alice-pw-123","domain":"acme.example.test"}`,
		`{"username":"alice","password":"wrong","passworD":"alice-pw-123","domain":"acme.example.test"}`,
		`{"username":"alice","password":"alice-pw-123","domain":"other.example.test","domain":"acme.example.test"}`,
		`{"username":"alice","password":"alice-pw-123","domain":"acme.example.test","u\u017fername":"admin"}`,
	} {
		for _, path := range []string{"/auth/sign_in", "/login"} {
			r := e.c.Do("POST", path, body, "Sec-Fetch-Site", "same-origin")
			if r.Status != 400 || r.String("access_token") != "" {
				t.Errorf("%s %s: %d %s", path, body, r.Status, r.Body)
			}
		}
	}
	// One key spelt with a fold of its name is simply that field, as in
	// encoding/json: no duplicate, so the sign-in works.
	r := e.c.Do("POST", "/auth/sign_in", fmt.Sprintf(`{"uſername":"alice","password":%q,"domain":%q}`, alicePW, acmeDomain))
	if r.Status != 200 {
		t.Errorf("a single folded key: %d %s", r.Status, r.Body)
	}
}
