package pbxauth_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/store"
)

const policyPath = "/tenant/password_policy"

// addUser adds a user of the tenant of domain ("" for a system user) with
// the role, through the Go API, and returns its access token.
func (e *env) addUser(t *testing.T, domain, username, role string) string {
	t.Helper()
	pw := "pw-of-" + username + "-7"
	if _, err := e.auth.CreateUser(context.Background(), pbxauth.NewUser{Domain: domain, Username: username, Password: pw, Role: role}); err != nil {
		t.Fatal(err)
	}
	access, _ := e.signIn(t, map[string]any{"username": username, "password": pw, "domain": domain})
	return access
}

// policy is GET /tenant/password_policy as the bearer.
func (e *env) policy(t *testing.T, access, query string) map[string]any {
	t.Helper()
	r := e.c.Do("GET", policyPath+query, nil, apitest.Bearer(access)...)
	if r.Status != 200 {
		t.Fatalf("GET %s%s: %d %s", policyPath, query, r.Status, r.Body)
	}
	return r.JSON()
}

// defaultPolicy is the answer for a tenant without a stored policy.
func defaultPolicy(minLength int) map[string]any {
	return map[string]any{"min_length": float64(minLength), "max_length": float64(256),
		"contains_letters": false, "contains_numbers": false, "contains_special_letters": false,
		"disable_sequential_characters": false, "disable_repeating_characters": false, "disable_account_information": false}
}

func wantPolicy(t *testing.T, what string, got, want map[string]any) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %v, want %v", what, got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s = %v, want %v", what, k, got[k], v)
		}
	}
}

// policyCallers signs in acme's Admin alice, a new StandardUser bob of
// acme, the SystemAdmin and a new Dealer, and returns their access tokens.
func (e *env) policyCallers(t *testing.T) (alice, bob, admin, dealer string) {
	t.Helper()
	alice, _ = e.signIn(t, aliceCreds())
	bob = e.addUser(t, acmeDomain, "bob", "StandardUser")
	admin, _ = e.signIn(t, map[string]any{"username": "admin", "password": adminPW})
	return alice, bob, admin, e.addUser(t, "", "dealer", "Dealer")
}

func TestPasswordPolicyWhoMayRead(t *testing.T) {
	e := newEnv(t)
	alice, bob, admin, dealer := e.policyCallers(t)

	wantPolicy(t, "an Admin's GET", e.policy(t, alice, ""), defaultPolicy(8))
	wantPolicy(t, "a StandardUser's GET", e.policy(t, bob, ""), defaultPolicy(8))
	wantPolicy(t, "a StandardUser naming its own tenant", e.policy(t, bob, "?domain=ACME.example.test"), defaultPolicy(8))
	wantPolicy(t, "a SystemAdmin's GET of a tenant", e.policy(t, admin, "?domain="+acmeDomain), defaultPolicy(8))
	for _, c := range []struct {
		who, access, query string
		status             int
	}{
		{"another tenant's domain", bob, "?domain=other.example.test", 404},
		{"an unknown domain", alice, "?domain=nowhere.example.test", 404},
		{"a SystemAdmin without domain", admin, "", 400},
		{"a SystemAdmin naming an unknown domain", admin, "?domain=nowhere.example.test", 404},
		{"a Dealer", dealer, "?domain=" + acmeDomain, 403},
		{"no bearer", "", "", 401},
	} {
		if r := e.c.Do("GET", policyPath+c.query, nil, apitest.Bearer(c.access)...); r.Status != c.status {
			t.Errorf("GET by %s: %d %s, want %d", c.who, r.Status, r.Body, c.status)
		}
	}
}

func TestPasswordPolicyWhoMayChange(t *testing.T) {
	e := newEnv(t)
	alice, bob, admin, dealer := e.policyCallers(t)
	replicator := e.addUser(t, "", "replicator", "Replicator")
	change := map[string]any{"contains_numbers": true}
	for _, c := range []struct {
		who, access, query string
		status             int
	}{
		{"a StandardUser", bob, "", 403},
		{"a StandardUser naming its tenant", bob, "?domain=" + acmeDomain, 403},
		{"an Admin naming another tenant", alice, "?domain=other.example.test", 404},
		{"an Admin naming an unknown domain", alice, "?domain=nowhere.example.test", 404},
		{"a SystemAdmin without domain", admin, "", 400},
		{"a Dealer", dealer, "?domain=" + acmeDomain, 403},
		{"a Replicator", replicator, "?domain=" + acmeDomain, 403},
	} {
		if r := e.c.Do("POST", policyPath+c.query, change, apitest.Bearer(c.access)...); r.Status != c.status {
			t.Errorf("POST by %s: %d %s, want %d", c.who, r.Status, r.Body, c.status)
		}
	}
	wantPolicy(t, "after refused changes", e.policy(t, alice, ""), defaultPolicy(8))
	other, err := e.auth.PasswordPolicy(context.Background(), "other.example.test")
	if err != nil || other.ContainsNumbers {
		t.Errorf("the other tenant's policy: %+v, %v", other, err)
	}

	// A sign-in too old for the change.
	e.clock.Advance(11 * time.Minute)
	if r := e.c.Do("POST", policyPath, change, apitest.Bearer(alice)...); r.Status != 403 || r.Reason() != "insufficient_scope" {
		t.Errorf("POST by an Admin signed in 11 minutes ago: %d %s", r.Status, r.Body)
	}
	alice, _ = e.signIn(t, aliceCreds())
	if r := e.c.Do("POST", policyPath, change, apitest.Bearer(alice)...); r.Status != 200 || len(r.Body) != 0 {
		t.Fatalf("POST by the tenant's Admin: %d %s", r.Status, r.Body)
	}
	admin, _ = e.signIn(t, map[string]any{"username": "admin", "password": adminPW})
	if r := e.c.Do("POST", policyPath+"?domain="+acmeDomain, map[string]any{"contains_letters": true}, apitest.Bearer(admin)...); r.Status != 200 {
		t.Fatalf("POST by a SystemAdmin: %d %s", r.Status, r.Body)
	}
	want := defaultPolicy(8)
	want["contains_numbers"], want["contains_letters"] = true, true
	wantPolicy(t, "after the changes", e.policy(t, bob, ""), want)
}

func TestPasswordPolicyMerge(t *testing.T) {
	ev := &events{}
	e := newEnv(t, func(c *pbxauth.Config) { c.OnEvent = ev.add })
	alice, _ := e.signIn(t, aliceCreds())
	post := func(body map[string]any) *apitest.Response {
		t.Helper()
		return e.c.Do("POST", policyPath, body, apitest.Bearer(alice)...)
	}
	want := defaultPolicy(8)
	for _, step := range []map[string]any{
		{"min_length": 10},
		{"contains_numbers": true, "disable_repeating_characters": true},
		{"max_length": 200}, // beyond PortSIP's 32
		{"contains_numbers": false},
		{},
	} {
		if r := post(step); r.Status != 200 {
			t.Fatalf("POST %v: %d %s", step, r.Status, r.Body)
		}
		for k, v := range step {
			if n, ok := v.(int); ok {
				v = float64(n)
			}
			want[k] = v
		}
		wantPolicy(t, "after POST", e.policy(t, alice, ""), want)
	}
	for _, c := range []struct {
		body map[string]any
		says string
	}{
		{map[string]any{"min_length": 7}, "at least 8"},
		{map[string]any{"min_length": 6}, "at least 8"},
		{map[string]any{"min_length": 33}, "min_length"},
		{map[string]any{"max_length": 257}, "max_length"},
		{map[string]any{"max_length": 5}, "max_length"},
		{map[string]any{"min_length": 20, "max_length": 12}, "greater than max_length"},
		{map[string]any{"max_length": 9}, "greater than max_length"}, // min_length is 10
		{map[string]any{"min_length": "12"}, ""},
		{map[string]any{"contains_letters": "yes", "min_length": 12}, ""},
	} {
		r := post(c.body)
		if r.Status != 400 || r.Code() != "INVALID_ARGUMENT" || !strings.Contains(string(r.Body), c.says) {
			t.Errorf("POST %v: %d %s, want 400 saying %q", c.body, r.Status, r.Body, c.says)
		}
	}
	wantPolicy(t, "after refused changes", e.policy(t, alice, ""), want)
	var changed []pbxauth.Event
	for _, x := range ev.list {
		if x.Kind == pbxauth.EventPasswordPolicyChanged {
			changed = append(changed, x)
		}
	}
	if len(changed) != 5 || changed[0].UserID != aliceID || changed[0].TenantID != acmeID {
		t.Errorf("password_policy_changed events: %+v, want 5 by alice in acme", changed)
	}
}

func TestPasswordPolicyFloor(t *testing.T) {
	e := newEnv(t, func(c *pbxauth.Config) { c.PasswordMinLength = 12 })
	alice, _ := e.signIn(t, map[string]any{"username": "alice", "password": alicePW, "domain": acmeDomain})
	wantPolicy(t, "the default", e.policy(t, alice, ""), defaultPolicy(12))
	r := e.c.Do("POST", policyPath, map[string]any{"min_length": 11}, apitest.Bearer(alice)...)
	if r.Status != 400 || !strings.Contains(string(r.Body), "12") {
		t.Errorf("min_length below the floor: %d %s", r.Status, r.Body)
	}
	// A policy stored under a lower floor is answered and applied as the floor.
	ps := e.store.(store.PasswordPolicyStore)
	if err := ps.PutPasswordPolicy(context.Background(), store.PasswordPolicy{TenantID: acmeID, MinLength: 8, MaxLength: 10}); err != nil {
		t.Fatal(err)
	}
	got := e.policy(t, alice, "")
	if got["min_length"] != float64(12) || got["max_length"] != float64(12) {
		t.Errorf("a stored policy below the floor: %v", got)
	}
	if _, err := pbxauth.New(pbxauth.Config{Store: e.store, PasswordMinLength: 7}); err == nil {
		t.Error("New accepted PasswordMinLength 7")
	}
}

// heldPolicyReads is a memory store whose first n reads of a password
// policy all wait for each other, so that n merges read the same policy:
// a store's condition, not luck, must keep them apart.
type heldPolicyReads struct {
	*memstore.Store
	n       int32
	reads   atomic.Int32
	release chan struct{}
}

func (s *heldPolicyReads) PasswordPolicy(ctx context.Context, tenantID string) (store.PasswordPolicy, error) {
	p, err := s.Store.PasswordPolicy(ctx, tenantID)
	switch k := s.reads.Add(1); {
	case k == s.n:
		close(s.release)
	case k < s.n:
		<-s.release
	}
	return p, err
}

// TestPasswordPolicyConcurrentMerges: concurrent POSTs that each set one
// member all survive; none merges into a policy read before another's
// change and overwrites it.
func TestPasswordPolicyConcurrentMerges(t *testing.T) {
	rules := []string{"contains_letters", "contains_numbers", "contains_special_letters",
		"disable_sequential_characters", "disable_repeating_characters", "disable_account_information"}
	st := &heldPolicyReads{Store: memstore.New(), n: int32(len(rules)), release: make(chan struct{})}
	seed(t, st.Store)
	e := newEnvWith(t, st)
	alice, _ := e.signIn(t, aliceCreds())
	counts := apitest.Race(len(rules), func(i int) *apitest.Response {
		return e.c.Do("POST", policyPath, map[string]any{rules[i]: true}, apitest.Bearer(alice)...)
	})
	if counts[200] != len(rules) {
		t.Fatalf("answers %v, want %d × 200", counts, len(rules))
	}
	got := e.policy(t, alice, "")
	for _, r := range rules {
		if got[r] != true {
			t.Errorf("%s lost to a concurrent merge: %v", r, got)
		}
	}
}
