// This file checks, on both dialects, what the SQL could get wrong that the
// in-memory store cannot: round-trips of every field, case-insensitive keys,
// the mapping of constraint violations, and the paths of Grant,
// RotateRefresh, UpdateFlow and PutCounter that are decided in SQL.

package sqlstore_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

func TestRoundTrip(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		st := b.newStore(t)

		sys, err := st.System(ctx)
		if err != nil || sys != (store.System{}) {
			t.Fatalf("System of an empty store = %+v, %v; want zero, nil", sys, err)
		}
		for _, want := range []store.System{
			{WebDomain: "pbx.example.test", PrivateIPv4: "10.0.0.5", PublicIPv4: "203.0.113.5", EnableIPv6: true,
				PrivateIPv6: "fd00::5", PublicIPv6: "2001:db8::5", PrimaryDNSServer: "9.9.9.9",
				SecondaryDNSServer: "1.1.1.1", EnableTwoFactor: true},
			{WebDomain: "other.example.test"},
		} {
			if err := st.PutSystem(ctx, want); err != nil {
				t.Fatalf("PutSystem: %v", err)
			}
			if got, err := st.System(ctx); err != nil || got != want {
				t.Fatalf("System = %+v, %v; want %+v", got, err, want)
			}
		}

		withMS := store.Tenant{ID: "t1", Name: "Acme", Domain: "Acme.Example.test", Website: "https://acme",
			AvatarURL: "https://acme/a.png", EnableTwoFactor: true, PasskeyNotTwoFactor: true,
			MS365: &store.MS365{ApplicationID: "app", DirectoryID: "dir", ClientSecret: "s", NationalCloud: "CHINA", Issuer: "https://iss"}}
		without := store.Tenant{ID: "t2", Name: "Bare", Domain: "bare.example.test"}
		for _, want := range []store.Tenant{withMS, without} {
			if err := st.CreateTenant(ctx, want); err != nil {
				t.Fatalf("CreateTenant: %v", err)
			}
			got, err := st.TenantByDomain(ctx, strings.ToUpper(want.Domain))
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("TenantByDomain = %+v, %v; want %+v", got, err, want)
			}
		}
		// An empty MS365 is still configured, and not nil.
		emptyMS := without
		emptyMS.MS365 = &store.MS365{}
		if err := st.UpdateTenant(ctx, emptyMS); err != nil {
			t.Fatalf("UpdateTenant: %v", err)
		}
		if got, err := st.Tenant(ctx, "t2"); err != nil || got.MS365 == nil {
			t.Fatalf("Tenant after setting an empty MS365 = %+v, %v; want a non-nil MS365", got, err)
		}

		u := store.User{ID: "u1", TenantID: "t1", Username: "Alice", Email: "Alice@Acme.test", Role: "Admin",
			PasswordHash: "$argon2id$x", TwoFactorEnabled: true, PasswordForceReset: true, Disabled: true}
		if err := st.CreateUser(ctx, u); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		if got, err := st.User(ctx, "u1"); err != nil || got != u {
			t.Fatalf("User = %+v, %v; want %+v", got, err, u)
		}

		// Times keep their microseconds; the zero time stays zero.
		f := store.Family{ID: "f1", UserID: "u1", PasswordVerified: true, Method: "microsoft",
			CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		if _, err := st.CreateFamily(ctx, f, 0); err != nil {
			t.Fatalf("CreateFamily: %v", err)
		}
		fl := store.Flow{Hash: store.HashToken("flow"), Purpose: store.FlowTwoFactor, UserID: "u1", TenantID: "t1",
			ExpiresAt: t0.Add(10 * time.Minute), CodeHash: "code", CodeExpiresAt: t0.Add(time.Minute), Sends: 2,
			LastSentAt: t0.Add(-time.Microsecond), Attempts: 3, Data: `{"x":"é\u0000"}`, Version: 7}
		if err := st.CreateFlow(ctx, fl); err != nil {
			t.Fatalf("CreateFlow: %v", err)
		}
		fl.Version = 1
		if got, err := st.Flow(ctx, fl.Hash, t0); err != nil || got != fl {
			t.Fatalf("Flow = %+v, %v; want %+v", got, err, fl)
		}
		zero := store.Flow{Hash: store.HashToken("zero"), Purpose: store.FlowOIDCState, ExpiresAt: t0.Add(time.Minute)}
		if err := st.CreateFlow(ctx, zero); err != nil {
			t.Fatalf("CreateFlow: %v", err)
		}
		got, err := st.Flow(ctx, zero.Hash, t0)
		if err != nil || !got.CodeExpiresAt.IsZero() || !got.LastSentAt.IsZero() || got.CodeExpiresAt != (time.Time{}) {
			t.Fatalf("Flow with zero times = %+v, %v; want zero times", got, err)
		}
		c := store.Counter{Key: "k", Count: 5, Locks: 2, LockedUntil: t0.Add(time.Minute), WindowStart: t0, ExpiresAt: t0.Add(time.Hour)}
		if err := st.PutCounter(ctx, c, t0); err != nil {
			t.Fatalf("PutCounter: %v", err)
		}
		c.Version = 1
		if got, err := st.Counter(ctx, "k", t0); err != nil || got != c {
			t.Fatalf("Counter = %+v, %v; want %+v", got, err, c)
		}
	})
}

func TestCaseInsensitiveKeys(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		st := b.newStore(t)
		if err := st.CreateTenant(ctx, store.Tenant{ID: "t1", Domain: "acme.example.test"}); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateTenant(ctx, store.Tenant{ID: "t2", Domain: "ACME.example.TEST"}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("CreateTenant with a taken domain in other case: %v; want ErrConflict", err)
		}
		if err := st.CreateTenant(ctx, store.Tenant{ID: "t1", Domain: "new.example.test"}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("CreateTenant with a taken ID: %v; want ErrConflict", err)
		}
		if err := st.CreateTenant(ctx, store.Tenant{ID: "t2", Domain: "b.example.test"}); err != nil {
			t.Fatal(err)
		}
		if err := st.UpdateTenant(ctx, store.Tenant{ID: "t2", Domain: "Acme.Example.Test"}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("UpdateTenant to another's domain: %v; want ErrConflict", err)
		}
		if err := st.UpdateTenant(ctx, store.Tenant{ID: "t1", Domain: "ACME.EXAMPLE.TEST"}); err != nil {
			t.Errorf("UpdateTenant to its own domain in other case: %v", err)
		}
		if err := st.UpdateTenant(ctx, store.Tenant{ID: "nope", Domain: "x"}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UpdateTenant of an unknown tenant: %v; want ErrNotFound", err)
		}

		for _, u := range []store.User{
			{ID: "u1", TenantID: "t1", Username: "Alice", Role: "User", Email: "alice@x.test"},
			{ID: "u2", TenantID: "t2", Username: "ALICE", Role: "User", Email: "ALICE@X.TEST"}, // another tenant
			{ID: "u3", TenantID: "", Username: "alice", Role: "User"},                          // a system user
			{ID: "u4", TenantID: "t1", Username: "bob", Role: "User", Email: "Alice@X.test"},
			{ID: "u5", TenantID: "t1", Username: "carol", Role: "User"},
		} {
			if err := st.CreateUser(ctx, u); err != nil {
				t.Fatalf("CreateUser(%s): %v", u.ID, err)
			}
		}
		if err := st.CreateUser(ctx, store.User{ID: "u9", TenantID: "t1", Username: "aLiCe", Role: "User"}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("CreateUser with a taken username in other case: %v; want ErrConflict", err)
		}
		if got, err := st.UserByName(ctx, "t1", "ALICE"); err != nil || got.ID != "u1" {
			t.Errorf("UserByName(t1, ALICE) = %s, %v; want u1", got.ID, err)
		}
		if got, err := st.UserByName(ctx, "", "Alice"); err != nil || got.ID != "u3" {
			t.Errorf("UserByName(system, Alice) = %s, %v; want u3", got.ID, err)
		}
		if _, err := st.UserByName(ctx, "t9", "alice"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UserByName in another tenant: %v; want ErrNotFound", err)
		}
		if err := st.UpdateUser(ctx, store.User{ID: "u4", TenantID: "t1", Username: "ALICE", Role: "User"}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("UpdateUser to a taken username: %v; want ErrConflict", err)
		}
		users, err := st.UsersByEmail(ctx, "t1", "aLiCe@x.TEST")
		if err != nil || len(users) != 2 || users[0].ID != "u1" || users[1].ID != "u4" {
			t.Errorf("UsersByEmail = %+v, %v; want u1 and u4", users, err)
		}
		users, err = st.UsersByEmail(ctx, "t1", "")
		if err != nil || users == nil || len(users) != 0 {
			t.Errorf("UsersByEmail(empty) = %#v, %v; want an empty slice", users, err)
		}
	})
}

func TestPasswords(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		st := b.newStore(t)
		u := addUser(t, st, "u1")
		u.PasswordForceReset = true
		if err := st.UpdateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		_, access, _ := signIn(t, st, "u1", "f1")
		signIn(t, st, "u1", "f2")
		addUser(t, st, "u2")
		_, other, _ := signIn(t, st, "u2", "f3")

		if err := st.SwapPasswordHash(ctx, "u1", "stale", "new"); !errors.Is(err, store.ErrConflict) {
			t.Errorf("SwapPasswordHash from a stale hash: %v; want ErrConflict", err)
		}
		if err := st.SwapPasswordHash(ctx, "nobody", "", "new"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("SwapPasswordHash of an unknown user: %v; want ErrNotFound", err)
		}
		if err := st.SwapPasswordHash(ctx, "u1", u.PasswordHash, "upgraded"); err != nil {
			t.Errorf("SwapPasswordHash: %v", err)
		}
		if err := st.ResetPassword(ctx, "nobody", "x"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("ResetPassword of an unknown user: %v; want ErrNotFound", err)
		}
		if err := st.ResetPassword(ctx, "u1", "reset"); err != nil {
			t.Fatalf("ResetPassword: %v", err)
		}
		got, err := st.User(ctx, "u1")
		if err != nil || got.PasswordHash != "reset" || got.PasswordForceReset {
			t.Errorf("user after ResetPassword = %+v, %v", got, err)
		}
		if _, err := st.Grant(ctx, access, store.AccessToken, t0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Grant after ResetPassword: %v; want ErrNotFound", err)
		}
		if _, err := st.Grant(ctx, other, store.AccessToken, t0); err != nil {
			t.Errorf("another user's Grant after ResetPassword: %v", err)
		}
	})
}

func TestGrant(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		st := b.newStore(t)
		u := addUser(t, st, "u1")
		f, access, refresh := signIn(t, st, "u1", "f1")

		g, err := st.Grant(ctx, access, store.AccessToken, t0)
		want := store.Grant{
			Token:  store.Token{Hash: access, Kind: store.AccessToken, FamilyID: "f1", ExpiresAt: t0.Add(time.Hour)},
			Family: f,
			User:   u,
		}
		if err != nil || g != want {
			t.Fatalf("Grant = %+v, %v; want %+v", g, err, want)
		}
		for _, c := range []struct {
			name string
			h    store.Hash
			kind store.TokenKind
			now  time.Time
		}{
			{"unknown token", store.HashToken("nope"), store.AccessToken, t0},
			{"other kind", access, store.RefreshToken, t0},
			{"expired at its instant", access, store.AccessToken, t0.Add(time.Hour)},
			{"family expired", refresh, store.RefreshToken, t0.Add(24 * time.Hour)},
		} {
			if _, err := st.Grant(ctx, c.h, c.kind, c.now); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Grant (%s): %v; want ErrNotFound", c.name, err)
			}
		}
		if _, err := st.Grant(ctx, access, store.AccessToken, t0.Add(time.Hour-time.Microsecond)); err != nil {
			t.Errorf("Grant a microsecond before expiry: %v", err)
		}

		// A family whose user does not exist, and a disabled user.
		_, orphan, _ := signIn(t, st, "ghost", "f2")
		if _, err := st.Grant(ctx, orphan, store.AccessToken, t0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Grant of a missing user's token: %v; want ErrNotFound", err)
		}
		u.Disabled = true
		if err := st.UpdateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Grant(ctx, access, store.AccessToken, t0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Grant of a disabled user's token: %v; want ErrNotFound", err)
		}
	})
}

func TestFamilies(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		st := b.newStore(t)
		addUser(t, st, "u1")
		_, access, _ := signIn(t, st, "u1", "f1")

		// A duplicate hash stores nothing, not even the family.
		dup := store.Family{ID: "f2", UserID: "u1", Method: "password", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		_, err := st.CreateFamily(ctx, dup, 0,
			store.Token{Hash: store.HashToken("fresh"), Kind: store.AccessToken, FamilyID: "f2", ExpiresAt: t0.Add(time.Hour)},
			store.Token{Hash: access, Kind: store.AccessToken, FamilyID: "f2", ExpiresAt: t0.Add(time.Hour)})
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("CreateFamily with a taken hash: %v; want ErrConflict", err)
		}
		if _, err := st.CreateFamily(ctx, dup, 0); err != nil {
			t.Errorf("CreateFamily after the failed one: %v (was the family kept?)", err)
		}
		if _, err := st.Grant(ctx, store.HashToken("fresh"), store.AccessToken, t0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a token of the failed CreateFamily was kept: %v", err)
		}
		if _, err := st.CreateFamily(ctx, dup, 0); !errors.Is(err, store.ErrConflict) {
			t.Errorf("CreateFamily with a taken ID: %v; want ErrConflict", err)
		}

		tok := store.Token{Hash: store.HashToken("added"), Kind: store.AccessToken, FamilyID: "f1", ExpiresAt: t0.Add(time.Hour)}
		if err := st.AddToken(ctx, tok, t0); err != nil {
			t.Fatalf("AddToken: %v", err)
		}
		if err := st.AddToken(ctx, tok, t0); !errors.Is(err, store.ErrConflict) {
			t.Errorf("AddToken of a taken hash: %v; want ErrConflict", err)
		}
		tok.Hash, tok.FamilyID = store.HashToken("other"), "nope"
		if err := st.AddToken(ctx, tok, t0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("AddToken to a missing family: %v; want ErrNotFound", err)
		}
		tok.FamilyID = "f1"
		if err := st.AddToken(ctx, tok, t0.Add(24*time.Hour)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("AddToken to an expired family: %v; want ErrNotFound", err)
		}

		if err := st.RevokeFamily(ctx, "f1"); err != nil {
			t.Fatal(err)
		}
		if err := st.RevokeFamily(ctx, "f1"); err != nil {
			t.Errorf("RevokeFamily again: %v", err)
		}
		if err := st.RevokeFamily(ctx, "nope"); err != nil {
			t.Errorf("RevokeFamily of an unknown family: %v", err)
		}
		if _, err := st.Grant(ctx, access, store.AccessToken, t0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Grant of a revoked family: %v; want ErrNotFound", err)
		}
		if err := st.AddToken(ctx, tok, t0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("AddToken to a revoked family: %v; want ErrNotFound", err)
		}

		_, a2, _ := signIn(t, st, "u1", "f3")
		if err := st.RevokeUser(ctx, "u1"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Grant(ctx, a2, store.AccessToken, t0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Grant after RevokeUser: %v; want ErrNotFound", err)
		}
	})
}

func TestRotateRefresh(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		st := b.newStore(t)
		addUser(t, st, "u1")
		_, access, refresh := signIn(t, st, "u1", "f1")

		// A next token that exists rolls the whole rotation back.
		clash := nextTokens("f1", "clash")
		clash[0].Hash = access
		if g, err := st.RotateRefresh(ctx, refresh, t0, clash...); !errors.Is(err, store.ErrConflict) || g != (store.Grant{}) {
			t.Fatalf("RotateRefresh with a taken next hash = %+v, %v; want zero, ErrConflict", g, err)
		}
		if g, err := st.Grant(ctx, refresh, store.RefreshToken, t0); err != nil || !g.Token.UsedAt.IsZero() {
			t.Fatalf("refresh token after the failed rotation = %+v, %v; want fresh", g.Token, err)
		}
		if _, err := st.Grant(ctx, clash[1].Hash, store.RefreshToken, t0); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a next token of the failed rotation was kept: %v", err)
		}

		if _, err := st.RotateRefresh(ctx, access, t0, nextTokens("f1", "x")...); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RotateRefresh of an access token: %v; want ErrNotFound", err)
		}
		// The store puts the next tokens in h's family: the caller leaves
		// FamilyID empty.
		now := t0.Add(time.Minute)
		g, err := st.RotateRefresh(ctx, refresh, now, nextTokens("", "n1")...)
		if err != nil || g.Token.Hash != refresh || !g.Token.UsedAt.IsZero() || g.Family.ID != "f1" || g.User.ID != "u1" {
			t.Fatalf("RotateRefresh = %+v, %v; want the fresh grant of the token", g, err)
		}
		if g, err := st.Grant(ctx, store.HashToken("refresh n1"), store.RefreshToken, now); err != nil || g.Token.FamilyID != "f1" {
			t.Errorf("the next refresh token = %+v, %v; want it in family f1", g.Token, err)
		}
		if g, err := st.Grant(ctx, refresh, store.RefreshToken, now); err != nil || !g.Token.UsedAt.Equal(now) {
			t.Errorf("Grant of the rotated token = %+v, %v; want UsedAt %v", g.Token, err, now)
		}
		g, err = st.RotateRefresh(ctx, refresh, now.Add(time.Second), nextTokens("f1", "n2")...)
		if !errors.Is(err, store.ErrTokenReused) || g.Family.ID != "f1" || !g.Token.UsedAt.Equal(now) {
			t.Errorf("RotateRefresh again = %+v, %v; want the grant with ErrTokenReused", g, err)
		}
		if _, err := st.Grant(ctx, store.HashToken("refresh n2"), store.RefreshToken, now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a reuse added its next token: %v", err)
		}
		if err := st.RevokeFamily(ctx, "f1"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.RotateRefresh(ctx, store.HashToken("refresh n1"), now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RotateRefresh in a revoked family: %v; want ErrNotFound", err)
		}
	})
}

func TestFlowsAndCounters(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		st := b.newStore(t)
		fl := store.Flow{Hash: store.HashToken("f"), Purpose: store.FlowPasswordReset, UserID: "u1", ExpiresAt: t0.Add(time.Minute)}
		if err := st.CreateFlow(ctx, fl); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateFlow(ctx, fl); !errors.Is(err, store.ErrConflict) {
			t.Errorf("CreateFlow of a taken hash: %v; want ErrConflict", err)
		}
		fl.Version, fl.Attempts = 1, 1
		if err := st.UpdateFlow(ctx, fl, t0); err != nil {
			t.Fatalf("UpdateFlow: %v", err)
		}
		if err := st.UpdateFlow(ctx, fl, t0); !errors.Is(err, store.ErrConflict) {
			t.Errorf("UpdateFlow with a stale version: %v; want ErrConflict", err)
		}
		fl.Version = 2
		if err := st.UpdateFlow(ctx, fl, t0.Add(time.Minute)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UpdateFlow of an expired flow: %v; want ErrNotFound", err)
		}
		if _, err := st.ConsumeFlow(ctx, fl.Hash, store.FlowTwoFactor, t0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("ConsumeFlow for another purpose: %v; want ErrNotFound", err)
		}
		got, err := st.ConsumeFlow(ctx, fl.Hash, store.FlowPasswordReset, t0)
		if err != nil || got.Attempts != 1 || got.Version != 2 {
			t.Errorf("ConsumeFlow = %+v, %v; want attempts 1, version 2", got, err)
		}
		if _, err := st.ConsumeFlow(ctx, fl.Hash, store.FlowPasswordReset, t0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("ConsumeFlow again: %v; want ErrNotFound", err)
		}
		if err := st.UpdateFlow(ctx, fl, t0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UpdateFlow of a consumed flow: %v; want ErrNotFound", err)
		}

		c := store.Counter{Key: "k", Count: 1, ExpiresAt: t0.Add(time.Minute)}
		if err := st.PutCounter(ctx, store.Counter{Key: "k", Version: 1}, t0); !errors.Is(err, store.ErrConflict) {
			t.Errorf("PutCounter version 1 of a missing counter: %v; want ErrConflict", err)
		}
		if err := st.PutCounter(ctx, c, t0); err != nil {
			t.Fatal(err)
		}
		if err := st.PutCounter(ctx, c, t0); !errors.Is(err, store.ErrConflict) {
			t.Errorf("PutCounter version 0 over a live counter: %v; want ErrConflict", err)
		}
		c.Version, c.Count = 1, 2
		if err := st.PutCounter(ctx, c, t0); err != nil {
			t.Errorf("PutCounter version 1: %v", err)
		}
		later := t0.Add(time.Minute)
		if got, err := st.Counter(ctx, "k", later); err != nil || got != (store.Counter{Key: "k"}) {
			t.Errorf("Counter when expired = %+v, %v; want zero with the key", got, err)
		}
		c.Version = 2
		if err := st.PutCounter(ctx, c, later); !errors.Is(err, store.ErrConflict) {
			t.Errorf("PutCounter with the version of an expired counter: %v; want ErrConflict", err)
		}
		c.Version, c.ExpiresAt = 0, later.Add(time.Minute)
		if err := st.PutCounter(ctx, c, later); err != nil {
			t.Errorf("PutCounter version 0 over an expired counter: %v", err)
		}
		if got, err := st.Counter(ctx, "k", later); err != nil || got.Version != 1 || got.Count != 2 {
			t.Errorf("Counter after replacing the expired one = %+v, %v; want version 1", got, err)
		}
		if err := st.DeleteCounter(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		if err := st.DeleteCounter(ctx, "k"); err != nil {
			t.Errorf("DeleteCounter of a missing counter: %v", err)
		}

		if err := st.LinkIdentity(ctx, store.Identity{TenantID: "t1", Issuer: "iss", Subject: "sub", UserID: "u1"}); err != nil {
			t.Fatal(err)
		}
		if err := st.LinkIdentity(ctx, store.Identity{TenantID: "t1", Issuer: "iss", Subject: "sub", UserID: "u2"}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("LinkIdentity of a linked account: %v; want ErrConflict", err)
		}
		if err := st.LinkIdentity(ctx, store.Identity{TenantID: "t1", Issuer: "iss", Subject: "sub2", UserID: "u1"}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("LinkIdentity of a second account to a linked user: %v; want ErrConflict", err)
		}
		if id, err := st.IdentityUser(ctx, "t1", "iss", "sub"); err != nil || id != "u1" {
			t.Errorf("IdentityUser = %q, %v; want u1", id, err)
		}
		if _, err := st.IdentityUser(ctx, "t2", "iss", "sub"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("IdentityUser in another tenant: %v; want ErrNotFound", err)
		}
		if _, err := st.IdentityUser(ctx, "t1", "iss", "SUB"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("IdentityUser of an unlinked subject: %v; want ErrNotFound", err)
		}
	})
}

func TestDeleteExpired(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		st := b.newStore(t)
		addUser(t, st, "u1")
		signIn(t, st, "u1", "f1") // access expires at t0+1h, refresh and family at t0+24h
		for i, exp := range []time.Duration{time.Minute, time.Hour} {
			name := string(rune('a' + i))
			h := store.HashToken(name)
			if err := st.CreateFlow(ctx, store.Flow{Hash: h, Purpose: store.FlowTwoFactor, ExpiresAt: t0.Add(exp)}); err != nil {
				t.Fatal(err)
			}
			if err := st.PutCounter(ctx, store.Counter{Key: name, ExpiresAt: t0.Add(exp)}, t0); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range []struct {
			now  time.Time
			want int64
		}{
			{t0, 0},
			{t0.Add(time.Minute), 2},    // a flow and a counter
			{t0.Add(time.Hour), 3},      // the access token, a flow and a counter
			{t0.Add(24 * time.Hour), 2}, // the refresh token and its family
			{t0.Add(48 * time.Hour), 0}, // nothing left
		} {
			n, err := st.DeleteExpired(ctx, c.now)
			if err != nil || n != c.want {
				t.Errorf("DeleteExpired(%v) = %d, %v; want %d", c.now.Sub(t0), n, err, c.want)
			}
		}
		if _, err := st.CreateFamily(ctx, store.Family{ID: "f1", UserID: "u1", Method: "password", ExpiresAt: t0}, 0); err != nil {
			t.Errorf("CreateFamily with the swept family's ID: %v", err)
		}
	})
}
