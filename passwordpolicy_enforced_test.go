package pbxauth_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
)

// strictPolicy turns every rule of acme's policy on, lengths 10-20.
var strictPolicy = map[string]any{"min_length": 10, "max_length": 20,
	"contains_letters": true, "contains_numbers": true, "contains_special_letters": true,
	"disable_sequential_characters": true, "disable_repeating_characters": true, "disable_account_information": true}

// passesStrict passes every rule of strictPolicy for alice of acme.
const passesStrict = "Tr0ub4dor&3"

// breaksOne are passwords that break one rule of strictPolicy each, for
// alice (alice@acme.example.test) of acme.example.test.
var breaksOne = []struct{ rule, password string }{
	{"min_length", "Tr0ub&3x"},
	{"max_length", "Tr0ub4dor&3-Tr0ub4dor&3"},
	{"contains_letters", "1357-9246-80"},
	{"contains_numbers", "Troubador&x"},
	{"contains_special_letters", "tr0ub4dor3x"},
	{"disable_sequential_characters", "Tr0ub-dcba-3"},
	{"disable_repeating_characters", "Tr0ub-xXxX-3"},
	{"disable_account_information", "Tr0ub-ALICE-3"}, // the username
	{"disable_account_information", "Tr0ub-Acme-3"},  // a label of the domain
}

// withStrictPolicy sets strictPolicy on acme through the API.
func (e *env) withStrictPolicy(t *testing.T) {
	t.Helper()
	alice, _ := e.signIn(t, aliceCreds())
	if r := e.c.Do("POST", policyPath, strictPolicy, apitest.Bearer(alice)...); r.Status != 200 {
		t.Fatalf("POST %s: %d %s", policyPath, r.Status, r.Body)
	}
}

// namesRule checks that err refuses a password naming rule.
func namesRule(t *testing.T, what, rule string, err error) {
	t.Helper()
	if !errors.Is(err, pbxauth.ErrInvalid) || !strings.Contains(err.Error(), rule) {
		t.Errorf("%s: %v, want ErrInvalid naming %s", what, err, rule)
	}
}

func TestPasswordPolicyOnReset(t *testing.T) {
	e := newMailEnv(t)
	e.withStrictPolicy(t)
	e.forget(t, "alice")
	tok := e.resetToken(t, aliceEmail)
	for _, c := range breaksOne {
		r := e.reset(t, tok, c.password)
		if r.Status != 400 || r.Code() != "INVALID_ARGUMENT" || !strings.Contains(string(r.Body), c.rule) {
			t.Errorf("reset to %q: %d %s, want 400 naming %s", c.password, r.Status, r.Body, c.rule)
		}
	}
	if r := e.reset(t, tok, passesStrict); r.Status != 200 {
		t.Fatalf("reset to a password that passes: %d %s", r.Status, r.Body)
	}
	e.signIn(t, map[string]any{"username": "alice", "password": passesStrict, "domain": acmeDomain})
}

func TestPasswordPolicyOnSetPassword(t *testing.T) {
	e := newEnv(t)
	e.withStrictPolicy(t)
	ctx := context.Background()
	for _, c := range breaksOne {
		namesRule(t, "SetPassword "+c.password, c.rule, e.auth.SetPassword(ctx, aliceID, c.password, false))
	}
	e.signIn(t, aliceCreds()) // nothing changed
	if err := e.auth.SetPassword(ctx, aliceID, passesStrict, false); err != nil {
		t.Fatal(err)
	}
	// A system user has pbxauth's own rules only; another tenant its own policy.
	if err := e.auth.SetPassword(ctx, adminID, "tr0ub4dor3x", false); err != nil {
		t.Errorf("SetPassword of a system user: %v", err)
	}
	if err := e.auth.SetPassword(ctx, "user-alice-other", "tr0ub4dor3x", false); err != nil {
		t.Errorf("SetPassword of another tenant's user: %v", err)
	}
}

func TestPasswordPolicyOnCreateUser(t *testing.T) {
	e := newEnv(t)
	e.withStrictPolicy(t)
	ctx := context.Background()
	for _, c := range breaksOne {
		// The account rule judges the new user's own name: carol's.
		pw := strings.ReplaceAll(c.password, "ALICE", "CAROL")
		_, err := e.auth.CreateUser(ctx, pbxauth.NewUser{Domain: acmeDomain, Username: "carol", Password: pw, Role: "StandardUser"})
		namesRule(t, "CreateUser with "+pw, c.rule, err)
	}
	if _, err := e.auth.CreateUser(ctx, pbxauth.NewUser{Domain: acmeDomain, Username: "carol", Password: passesStrict, Role: "StandardUser"}); err != nil {
		t.Fatal(err)
	}
	// The seed loader's and the CLI's option: pbxauth's own rules only.
	if _, err := e.auth.CreateUser(ctx, pbxauth.NewUser{Domain: acmeDomain, Username: "erin", Password: "tr0ub4dor3x", Role: "StandardUser", SkipTenantPolicy: true}); err != nil {
		t.Errorf("CreateUser skipping the tenant's policy: %v", err)
	}
	_, err := e.auth.CreateUser(ctx, pbxauth.NewUser{Domain: acmeDomain, Username: "frank", Password: "short", Role: "StandardUser", SkipTenantPolicy: true})
	if !errors.Is(err, pbxauth.ErrInvalid) {
		t.Errorf("CreateUser skipping the tenant's policy with a password pbxauth refuses: %v", err)
	}
}

// TestPasswordPolicyOnChange: POST /user/password refuses a new password
// that breaks the tenant's policy, naming the rule, before the old one is
// checked (no wrong-password attempt is spent), and changes nothing.
func TestPasswordPolicyOnChange(t *testing.T) {
	e := newEnv(t)
	e.withStrictPolicy(t)
	alice, _ := e.signIn(t, aliceCreds())
	for _, c := range breaksOne {
		r := e.c.Do("POST", "/user/password", changeBody(alicePW, c.password), apitest.Bearer(alice)...)
		if r.Status != 400 || r.Code() != "INVALID_ARGUMENT" || !strings.Contains(string(r.Body), c.rule) || !strings.Contains(string(r.Body), "new_password") {
			t.Errorf("change to %q: %d %s, want 400 naming new_password and %s", c.password, r.Status, r.Body, c.rule)
		}
	}
	e.wantSignIn(t, alicePW, 200)
	if r := e.c.Do("POST", "/user/password", changeBody(alicePW, passesStrict), apitest.Bearer(alice)...); r.Status != 200 {
		t.Fatalf("change to a password that passes: %d %s", r.Status, r.Body)
	}
	e.wantSignIn(t, passesStrict, 200)
}

// TestPasswordPolicyOnAdminSet: POST /users/{id}/password refuses a
// password that breaks the user's tenant's policy, naming the rule, and
// changes nothing.
func TestPasswordPolicyOnAdminSet(t *testing.T) {
	e := newEnv(t)
	e.withStrictPolicy(t)
	admin, _ := e.signIn(t, map[string]any{"username": "admin", "password": adminPW})
	for _, c := range breaksOne {
		r := e.setPassword(admin, aliceID, c.password)
		if r.Status != 400 || r.Code() != "INVALID_ARGUMENT" || !strings.Contains(string(r.Body), c.rule) {
			t.Errorf("set to %q: %d %s, want 400 naming %s", c.password, r.Status, r.Body, c.rule)
		}
	}
	e.wantSignIn(t, alicePW, 200)
	if r := e.setPassword(admin, aliceID, passesStrict); r.Status != 200 {
		t.Fatalf("set to a password that passes: %d %s", r.Status, r.Body)
	}
	e.wantSignIn(t, passesStrict, 200)
}
