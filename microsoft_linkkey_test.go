// Link keys say what they are: oid: for an account of the tenant's own
// directory, sub: for any other, so that a subject of one kind never
// reaches a link of the other; and links made before keys said so are
// rewritten one at a time as their accounts sign in, matched only as
// DESIGN.md says.

package pbxauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/store"
)

// linkKey is the key the account's link has: oid: for an account of the
// tenant's directory, else sub:.
func (u *entraUser) linkKey() string {
	if u.tid == entraDirectory {
		return "oid:" + u.oid
	}
	return "sub:" + u.sub
}

// wantLink checks the user the key is linked to in acme ("" for none).
func (e *msEnv) wantLink(t *testing.T, key, userID string) {
	t.Helper()
	id, err := e.store.IdentityUser(context.Background(), acmeID, e.idp.Issuer(), key)
	if userID == "" && !errors.Is(err, pbxauth.ErrNotFound) || userID != "" && (err != nil || id != userID) {
		t.Errorf("link %q: %q, %v; want %q", key, id, err, userID)
	}
}

// linkOld makes a link as stored before keys said what they are.
func (e *msEnv) linkOld(t *testing.T, subject, userID string) {
	t.Helper()
	if err := e.store.LinkIdentity(context.Background(), store.Identity{TenantID: acmeID, Issuer: e.idp.Issuer(), Subject: subject, UserID: userID}); err != nil {
		t.Fatal(err)
	}
}

// roleOf trades the landing's flow token and returns the role signed in.
func (e *msEnv) roleOf(t *testing.T, land *url.URL) string {
	t.Helper()
	return e.c.Do("GET", "/auth/user", nil, apitest.Bearer(e.exchange(t, land))...).String("role")
}

// A subject never takes over an object ID's link, nor the other way round,
// whatever the account's email says.
func TestMicrosoftSubAndOidApart(t *testing.T) {
	e := newMSEnv(t)
	e.addUser(t, store.User{ID: "user-bob", TenantID: acmeID, Username: "bob", Email: "bob@acme.example.test"})
	bob := &entraUser{sub: "sub-bob", email: "bob@acme.example.test", verified: true} // no oid: another kind of IdP account
	if role := e.roleOf(t, e.signInAs(t, alice())); role != "Admin" {
		t.Fatalf("alice signed in as %q", role)
	}
	if role := e.roleOf(t, e.signInAs(t, bob)); role != "StandardUser" {
		t.Fatalf("bob signed in as %q", role)
	}
	e.wantLink(t, "oid:oid-alice", aliceID)
	e.wantLink(t, "sub:sub-bob", "user-bob")

	for _, attacker := range []*entraUser{
		{sub: "oid-alice"},                                // alice's oid as a subject
		{sub: "oid:oid-alice"},                            // alice's link key as a subject
		{oid: "sub-bob", sub: "s-m", tid: entraDirectory}, // bob's subject as an object ID
		{oid: "sub:sub-bob", sub: "s-m2", tid: entraDirectory},
		{oid: "oid-alice", sub: "s-m3", tid: "dir-other"}, // alice's oid from another directory
	} {
		attacker.email, attacker.upn = "mallory@mallory.example", "mallory@mallory.example"
		wantRefused(t, e.signInAs(t, attacker), "access_denied")
	}
	e.wantLink(t, "oid:oid-alice", aliceID)
	e.wantLink(t, "sub:sub-bob", "user-bob")
	if n := len(e.events.refusals()); n != 5 {
		t.Errorf("%d refusals, want 5", n)
	}
}

// A token of the tenant's directory without oid is refused: its account
// could not be told from another kind.
func TestMicrosoftDirectoryTokenNeedsOid(t *testing.T) {
	e := newMSEnv(t)
	acct := alice()
	acct.oid = ""
	wantRefused(t, e.signInAs(t, acct), "access_denied")
	e.wantUnlinked(t, acct)
	e.wantRefusedBecause(t, "oid")
}

// Links made before keys said what they are are rewritten at their
// account's next sign-in; only the link the DESIGN names ever matches.
func TestMicrosoftOldLinksMigrate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		old     string // the old link's subject, linked to alice
		account *entraUser
		signIn  bool
	}{
		{"object ID, token of the directory", "oid-alice", &entraUser{oid: "oid-alice", sub: "s1", tid: entraDirectory}, true},
		{"subject, token without oid", "sub-old", &entraUser{sub: "sub-old"}, true},
		{"subject, token without oid from another directory", "sub-old", &entraUser{sub: "sub-old", tid: "dir-other"}, true},
		{"subject, token with an oid of another directory", "sub-old", &entraUser{oid: "o1", sub: "sub-old", tid: "dir-other"}, false},
		{"object ID, token of another directory", "oid-alice", &entraUser{oid: "oid-alice", sub: "s2", tid: "dir-other"}, false},
		{"object ID as the subject of a token without oid", "oid-alice", &entraUser{sub: "oid-alice"}, true}, // the old rule's own ambiguity
		{"subject, token of the directory", "sub-old", &entraUser{oid: "o2", sub: "sub-old", tid: entraDirectory}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newMSEnv(t)
			e.linkOld(t, tc.old, aliceID)
			// The account's email names nobody: only a link maps it.
			tc.account.email, tc.account.verified = "moved@elsewhere.example", true
			land := e.signInAs(t, tc.account)
			if !tc.signIn {
				wantRefused(t, land, "access_denied")
				e.wantLink(t, tc.old, aliceID)
				e.wantLink(t, tc.account.linkKey(), "")
				return
			}
			if role := e.roleOf(t, land); role != "Admin" {
				t.Fatalf("signed in as %q, want alice", role)
			}
			e.wantLink(t, tc.account.linkKey(), aliceID)
			e.wantLink(t, tc.old, "")
			// And the next sign-in finds the rewritten link.
			if role := e.roleOf(t, e.signInAs(t, tc.account)); role != "Admin" {
				t.Errorf("second sign-in as %q", role)
			}
		})
	}
}

// A new key is never read as an old link: an old-rule lookup of a subject
// that looks like a key finds nothing.
func TestMicrosoftNewKeyIsNoOldLink(t *testing.T) {
	e := newMSEnv(t)
	e.exchange(t, e.signInAs(t, alice()))
	e.wantLink(t, "oid:oid-alice", aliceID)
	for _, sub := range []string{"oid:oid-alice", "sub:oid:oid-alice"} {
		wantRefused(t, e.signInAs(t, &entraUser{sub: sub}), "access_denied")
	}
	e.wantLink(t, "oid:oid-alice", aliceID)
}

// oldLinkBarrier holds the answer of every lookup of one subject until n
// have been made, so that n sign-ins all read an old link before any of
// them rewrites it.
type oldLinkBarrier struct {
	store.Store
	subject string
	n       int

	mu      sync.Mutex
	arrived int
	open    chan struct{}
}

func (b *oldLinkBarrier) IdentityUser(ctx context.Context, tenantID, issuer, subject string) (string, error) {
	id, err := b.Store.IdentityUser(ctx, tenantID, issuer, subject)
	if subject != b.subject {
		return id, err
	}
	b.mu.Lock()
	if b.arrived++; b.arrived == b.n {
		close(b.open)
	}
	b.mu.Unlock()
	select {
	case <-b.open:
		return id, err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// Parallel first sign-ins of an account with an old link, all of which
// read the old link before any rewrites it, all sign in as its user and
// leave one link under the new key.
func TestMicrosoftOldLinkMigrationRace(t *testing.T) {
	const n = 8
	e := newMSEnv(t, func(c *pbxauth.Config) {
		c.Store = &oldLinkBarrier{Store: c.Store, subject: "oid-alice", n: n, open: make(chan struct{})}
		c.VolatileMail = true
	})
	e.linkOld(t, "oid-alice", aliceID)
	moved := alice()
	moved.email, moved.upn = "moved@elsewhere.example", "moved@elsewhere.example" // only the link maps it
	callbacks := make([]string, n)
	for i := range callbacks {
		callbacks[i] = e.authorize(t, e.start(t), moved).String()
	}
	lands := make([]*url.URL, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r, err := e.c.HTTP.Get(callbacks[i])
			if err != nil {
				t.Error(err)
				return
			}
			r.Body.Close()
			if r.StatusCode != http.StatusFound {
				t.Errorf("callback %d: %d", i, r.StatusCode)
				return
			}
			lands[i], _ = url.Parse(r.Header.Get("Location"))
		})
	}
	wg.Wait()
	for i, land := range lands {
		if land == nil || !land.Query().Has("token") {
			t.Errorf("sign-in %d landed on %v", i, land)
			continue
		}
		if role := e.roleOf(t, land); role != "Admin" {
			t.Errorf("sign-in %d as %q", i, role)
		}
	}
	e.wantLink(t, "oid:oid-alice", aliceID)
	e.wantLink(t, "oid-alice", "")
}
