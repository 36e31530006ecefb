// The attacker's tests of POST /users/{id}/ms365_binding and /destroy: who
// may bind whom (a StandardUser, a Dealer: 403; an Admin on another
// tenant's user, a system user or an unknown id: 404), what an id must be,
// which accounts a binding signs in (by object ID even with an unverified
// email; by UPN only a member of the tenant's directory), that email
// matching never picks a bound user, and that a key is bound once (409,
// also under concurrent bindings), against a real OIDC provider.

package pbxauth_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/store"
)

// Object IDs of accounts in the tenant's directory.
const (
	erinOID  = "0f8fad5b-d9cb-469f-a165-70867728950e"
	frankOID = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
	erinID   = "user-erin"
	erinUPN  = "erin@contoso.example"
)

// erinAccount is erin's Microsoft account in the tenant's directory, a
// member, whose email the IdP does not vouch for.
func erinAccount() *entraUser {
	return &entraUser{oid: erinOID, sub: "sub-erin", tid: entraDirectory, email: "erin@acme.example.test", upn: erinUPN, verified: false, acct: 0}
}

// newBindingEnv is an msEnv with erin, a StandardUser of acme, and bob
// and a Dealer (addBob); it returns alice's access token (an Admin of
// acme, signed in with her password just now).
func newBindingEnv(t *testing.T, configure ...func(*pbxauth.Config)) (*msEnv, string) {
	t.Helper()
	e := newMSEnv(t, configure...)
	e.addUser(t, store.User{ID: erinID, TenantID: acmeID, Username: "erin", Email: "erin@acme.example.test", Role: pbxauth.RoleStandardUser})
	e.addBob(t)
	alice, _ := e.signIn(t, aliceCreds())
	return e, alice
}

// bind binds the user id to account as the holder of access.
func (e *env) bind(access, id, account string) *apitest.Response {
	return e.c.Do("POST", "/users/"+id+"/ms365_binding", map[string]any{"id": account}, apitest.Bearer(access)...)
}

// unbind removes the user id's binding as the holder of access.
func (e *env) unbind(access, id string) *apitest.Response {
	return e.c.Do("POST", "/users/"+id+"/ms365_binding/destroy", nil, apitest.Bearer(access)...)
}

// bindingsOf returns the binding key of the user in acme ("" for none).
func (e *env) bindingOf(t *testing.T, userID string) string {
	t.Helper()
	b, err := e.store.(store.MicrosoftBindingStore).UserMicrosoftBinding(context.Background(), acmeID, userID)
	if errors.Is(err, store.ErrNotFound) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Key
}

func TestMs365BindingWhoMay(t *testing.T) {
	e, alice := newBindingEnv(t)
	bobID := userIDOf(t, e.env, "bob")
	bob, _ := e.signIn(t, bobCreds("bob-pw-1234"))
	dealer, _ := e.signIn(t, map[string]any{"username": "dealer", "password": "dealer-pw-1234"})
	admin, _ := e.signIn(t, map[string]any{"username": "admin", "password": adminPW})
	for _, c := range []struct {
		what, access, id, account string
		status                    int
	}{
		{"a StandardUser", bob, erinID, erinOID, 403},
		{"a StandardUser on itself", bob, bobID, erinOID, 403},
		{"a Dealer", dealer, erinID, erinOID, 403},
		{"an Admin on a user of another tenant", alice, "user-alice-other", erinOID, 404},
		{"an Admin on a system user", alice, adminID, erinOID, 404},
		{"an Admin on an unknown id", alice, "user-nobody", erinOID, 404},
		{"a SystemAdmin on a system user", admin, adminID, erinOID, 400},
		{"an id that is neither", alice, erinID, "erin", 400},
		{"two @", alice, erinID, "erin@contoso@example", 400},
		{"an empty side", alice, erinID, "@contoso.example", 400},
		{"a space", alice, erinID, "erin smith@contoso.example", 400},
		{"no id", alice, erinID, "", 400},
		{"a GUID too short", alice, erinID, erinOID[1:], 400},
	} {
		r := e.bind(c.access, c.id, c.account)
		if r.Status != c.status {
			t.Errorf("bind: %s: %d %s, want %d", c.what, r.Status, r.Body, c.status)
		}
		if c.status == 400 && r.Code() != "INVALID_ARGUMENT" {
			t.Errorf("bind: %s: code %q", c.what, r.Code())
		}
	}
	for _, c := range []struct {
		what, access, id string
		status           int
	}{
		{"a StandardUser", bob, erinID, 403},
		{"a Dealer", dealer, erinID, 403},
		{"an Admin on a user of another tenant", alice, "user-alice-other", 404},
		{"an Admin on an unknown id", alice, "user-nobody", 404},
	} {
		if r := e.unbind(c.access, c.id); r.Status != c.status {
			t.Errorf("destroy: %s: %d %s, want %d", c.what, r.Status, r.Body, c.status)
		}
	}
	for _, id := range []string{erinID, bobID, "user-alice-other"} {
		if k := e.bindingOf(t, id); k != "" {
			t.Errorf("%s bound to %s after refusals", id, k)
		}
	}
	// A SystemAdmin binds any tenant's user; an Admin its own tenant's.
	if r := e.bind(admin, erinID, erinOID); r.Status != 200 {
		t.Errorf("a SystemAdmin: %d %s", r.Status, r.Body)
	}
	if r := e.bind(alice, bobID, "Bob@Contoso.Example"); r.Status != 200 || len(r.Body) != 0 {
		t.Errorf("an Admin: %d %q", r.Status, r.Body)
	}
	if k := e.bindingOf(t, bobID); k != "upn:bob@contoso.example" {
		t.Errorf("bob's binding %q, want the UPN folded", k)
	}
	// An old sign-in may not bind.
	e.clock.Advance(11 * time.Minute)
	if r := e.bind(alice, erinID, frankOID); r.Status != 403 || r.Reason() != "insufficient_scope" {
		t.Errorf("an old sign-in: %d %s, want 403 insufficient_scope", r.Status, r.Body)
	}
	if r := e.unbind(alice, erinID); r.Status != 403 || r.Reason() != "insufficient_scope" {
		t.Errorf("an old sign-in's destroy: %d %s, want 403 insufficient_scope", r.Status, r.Body)
	}
	if k := e.bindingOf(t, erinID); k != "oid:"+erinOID {
		t.Errorf("erin's binding after an old sign-in's attempts: %q", k)
	}
}

// userIDOf returns the ID of the acme user named username.
func userIDOf(t *testing.T, e *env, username string) string {
	t.Helper()
	u, err := e.store.UserByName(context.Background(), acmeID, username)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// A binding by object ID signs in an account whose email the IdP does not
// vouch for, which email matching refuses; destroy refuses it again and
// ends the sign-in it made.
func TestMs365BindingSignsInUnverified(t *testing.T) {
	e, alice := newBindingEnv(t)
	wantRefused(t, e.signInAs(t, erinAccount()), "access_denied")
	if r := e.bind(alice, erinID, "0F8FAD5B-D9CB-469F-A165-70867728950E"); r.Status != 200 {
		t.Fatalf("bind: %d %s", r.Status, r.Body)
	}
	access := e.exchange(t, e.signInAs(t, erinAccount()))
	if u := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(access)...); u.Status != 200 || u.String("username") != "erin" {
		t.Fatalf("signed in as %d %s, want erin", u.Status, u.Body)
	}
	e.wantLink(t, "oid:"+erinOID, erinID)
	// A second sign-in goes through the link the first made.
	e.exchange(t, e.signInAs(t, erinAccount()))

	if r := e.unbind(alice, erinID); r.Status != 204 || len(r.Body) != 0 {
		t.Fatalf("destroy: %d %q", r.Status, r.Body)
	}
	if u := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(access)...); u.Status != 401 {
		t.Errorf("erin's Microsoft sign-in after destroy: %d, want 401", u.Status)
	}
	wantRefused(t, e.signInAs(t, erinAccount()), "access_denied")
	e.wantLink(t, "oid:"+erinOID, "")
	if k := e.bindingOf(t, erinID); k != "" {
		t.Errorf("binding after destroy: %q", k)
	}
	if n := countKind(e.events, pbxauth.EventMicrosoftBindingAdded); n != 1 {
		t.Errorf("%d microsoft_binding_added events, want 1", n)
	}
	if n := countKind(e.events, pbxauth.EventMicrosoftBindingRemoved); n != 1 {
		t.Errorf("%d microsoft_binding_removed events, want 1", n)
	}
	for _, ev := range e.events.list {
		if ev.Kind == pbxauth.EventMicrosoftBindingAdded && (ev.Actor != aliceID || ev.UserID != erinID || ev.TenantID != acmeID) {
			t.Errorf("binding event %+v", ev)
		}
	}
	// Destroying again changes nothing and answers the same.
	if r := e.unbind(alice, erinID); r.Status != 204 {
		t.Errorf("destroy again: %d %s", r.Status, r.Body)
	}
}

// A UPN binding matches only a member (acct 0) of the tenant's directory,
// and only through the ID token.
func TestMs365BindingUPN(t *testing.T) {
	for _, c := range []struct {
		what    string
		account func(*entraUser)
		ok      bool
	}{
		{"a member", func(*entraUser) {}, true},
		{"the UPN in another case", func(u *entraUser) { u.upn = "ERIN@Contoso.Example" }, true},
		{"a guest (acct 1)", func(u *entraUser) { u.acct = 1 }, false},
		{"no acct claim", func(u *entraUser) { u.acct = nil }, false},
		{"acct as a string", func(u *entraUser) { u.acct = "0" }, false},
		{"another directory's tid", func(u *entraUser) { u.tid = "9b2d1c7e-3f4a-4b5c-8d6e-0a1b2c3d4e5f" }, false},
		{"no tid", func(u *entraUser) { u.tid = "" }, false},
	} {
		t.Run(c.what, func(t *testing.T) {
			e, alice := newBindingEnv(t)
			if r := e.bind(alice, erinID, erinUPN); r.Status != 200 {
				t.Fatalf("bind: %d %s", r.Status, r.Body)
			}
			acct := erinAccount()
			acct.oid = frankOID // another object ID: only the UPN can match
			c.account(acct)
			land := e.signInAs(t, acct)
			if !c.ok {
				wantRefused(t, land, "access_denied")
				if k := e.bindingOf(t, erinID); k != "upn:"+erinUPN {
					t.Errorf("binding after a refusal: %q", k)
				}
				return
			}
			access := e.exchange(t, land)
			if u := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(access)...); u.String("username") != "erin" {
				t.Errorf("signed in as %s, want erin", u.Body)
			}
		})
	}
}

// Email matching never picks a user who has a binding, even with an email
// the IdP vouches for; the bound account still signs in.
func TestMs365BindingBlocksEmailMatch(t *testing.T) {
	e, alice := newBindingEnv(t)
	if r := e.bind(alice, erinID, erinOID); r.Status != 200 {
		t.Fatalf("bind: %d %s", r.Status, r.Body)
	}
	other := &entraUser{oid: frankOID, sub: "sub-frank", tid: entraDirectory, email: "erin@acme.example.test", verified: true, acct: 0}
	wantRefused(t, e.signInAs(t, other), "access_denied")
	e.wantLink(t, "oid:"+frankOID, "")
	e.exchange(t, e.signInAs(t, erinAccount()))
	e.wantLink(t, "oid:"+erinOID, erinID)
}

func TestMs365BindingConflicts(t *testing.T) {
	e, alice := newBindingEnv(t)
	bobID := userIDOf(t, e.env, "bob")
	if r := e.bind(alice, erinID, erinUPN); r.Status != 200 {
		t.Fatalf("bind: %d %s", r.Status, r.Body)
	}
	if r := e.bind(alice, bobID, "Erin@CONTOSO.example"); r.Status != 409 || r.Code() != "CONFLICT" {
		t.Errorf("a UPN bound to another user: %d %s, want 409", r.Status, r.Body)
	}
	// frank's account signs in as bob by his verified email: its link
	// holds the object ID.
	e.changeUser(t, bobID, func(u *store.User) { u.Email = "bob@acme.example.test" })
	frank := &entraUser{oid: frankOID, sub: "sub-frank", tid: entraDirectory, email: "bob@acme.example.test", verified: true, acct: 0}
	e.exchange(t, e.signInAs(t, frank))
	if r := e.bind(alice, erinID, frankOID); r.Status != 409 {
		t.Errorf("an object ID another user's link holds: %d %s, want 409", r.Status, r.Body)
	}
	if k := e.bindingOf(t, erinID); k != "upn:"+erinUPN {
		t.Errorf("erin's binding after the refusal: %q", k)
	}
	// Binding bob to the object ID his own link holds is no conflict; it
	// replaces the link, and ends bob's Microsoft sign-in.
	if r := e.bind(alice, bobID, frankOID); r.Status != 200 {
		t.Errorf("bob to his own account: %d %s", r.Status, r.Body)
	}
	e.wantLink(t, "oid:"+frankOID, "")
	e.exchange(t, e.signInAs(t, frank))
	e.wantLink(t, "oid:"+frankOID, bobID)
}

// Admins bind one account to several users at once: one wins, the others
// get 409, and the account signs in as the winner.
func TestMs365BindingConcurrent(t *testing.T) {
	e, alice := newBindingEnv(t)
	const n = 8
	ids := make([]string, n)
	for i := range n {
		u, err := e.auth.CreateUser(t.Context(), pbxauth.NewUser{Domain: acmeDomain, Username: "racer" + string(rune('a'+i)), Role: pbxauth.RoleStandardUser})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = u.ID
	}
	statuses := parallel(n, func(i int) int { return e.bind(alice, ids[i], erinOID).Status })
	winner := slices.Index(statuses, 200)
	if winner < 0 || slices.Index(statuses[winner+1:], 200) >= 0 {
		t.Fatalf("statuses %v, want exactly one 200", statuses)
	}
	for i, s := range statuses {
		if i != winner && s != 409 {
			t.Errorf("racer %d: %d, want 409", i, s)
		}
	}
	access := e.exchange(t, e.signInAs(t, erinAccount()))
	if u := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(access)...); u.String("username") != "racer"+string(rune('a'+winner)) {
		t.Errorf("signed in as %s, want racer %d", u.Body, winner)
	}
}

// The Go API validates as the route does.
func TestMs365BindingGoAPI(t *testing.T) {
	e, _ := newBindingEnv(t)
	ctx := t.Context()
	for _, c := range []struct {
		what, id, account string
		want              error
	}{
		{"a bad account", erinID, "erin", pbxauth.ErrInvalid},
		{"a system user", adminID, erinOID, pbxauth.ErrInvalid},
		{"an unknown user", "user-nobody", erinOID, pbxauth.ErrNotFound},
	} {
		if err := e.auth.BindMicrosoftAccount(ctx, c.id, c.account); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.what, err, c.want)
		}
	}
	if err := e.auth.BindMicrosoftAccount(ctx, erinID, erinOID); err != nil {
		t.Fatal(err)
	}
	if err := e.auth.BindMicrosoftAccount(ctx, userIDOf(t, e.env, "bob"), erinOID); !errors.Is(err, pbxauth.ErrConflict) {
		t.Errorf("a bound account: %v, want ErrConflict", err)
	}
	e.exchange(t, e.signInAs(t, erinAccount()))
	if err := e.auth.UnbindMicrosoftAccount(ctx, erinID); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, e.signInAs(t, erinAccount()), "access_denied")
}

// An account's existing link wins over a binding of its UPN to another
// user: the binding takes effect for accounts with no link yet.
func TestMs365BindingLinkWins(t *testing.T) {
	e, admin := newBindingEnv(t)
	member := alice()
	member.acct = 0 // a member: her UPN would match a binding
	e.exchange(t, e.signInAs(t, member))
	if r := e.bind(admin, erinID, "alice@acme.example.test"); r.Status != 200 {
		t.Fatalf("bind erin to alice's UPN: %d %s", r.Status, r.Body)
	}
	access := e.exchange(t, e.signInAs(t, member))
	if u := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(access)...); u.String("username") != "alice" {
		t.Errorf("signed in as %s, want alice: her link wins", u.Body)
	}
	e.wantLink(t, "oid:oid-alice", aliceID)
}
