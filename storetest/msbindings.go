// This file checks the optional store.MicrosoftBindingStore: a binding is
// found by its key and by its user, replaces the user's earlier binding and
// links, is refused when another user of the tenant holds the key (a
// binding or a link), and of concurrent bindings of one key to different
// users exactly one wins, also across handles; a tenant's reset removes
// its links and bindings only; rules round trip whole and are versioned.

package storetest

import (
	"errors"
	"fmt"
	"slices"

	"github.com/pbxauth/pbxauth/store"
)

// bindingStore returns s as a MicrosoftBindingStore, or skips the check.
func bindingStore(t tb, s store.Store) store.MicrosoftBindingStore {
	t.Helper()
	return capability[store.MicrosoftBindingStore](t, s)
}

// binding is a binding of tenant.
func binding(tenant, userID, key string) store.MicrosoftBinding {
	return store.MicrosoftBinding{TenantID: tenant, UserID: userID, Key: key}
}

// wantBound checks that b is found by its key and by its user.
func wantBound(t tb, bs store.MicrosoftBindingStore, b store.MicrosoftBinding, what string) {
	t.Helper()
	got, err := bs.MicrosoftBinding(t.Context(), b.TenantID, b.Key)
	wantErr(t, err, nil, what+": MicrosoftBinding")
	equal(t, what+": the binding of the key", got, b)
	got, err = bs.UserMicrosoftBinding(t.Context(), b.TenantID, b.UserID)
	wantErr(t, err, nil, what+": UserMicrosoftBinding")
	equal(t, what+": the binding of the user", got, b)
}

// wantUnbound checks that neither the key nor the user has a binding.
func wantUnbound(t tb, bs store.MicrosoftBindingStore, tenant, userID, key, what string) {
	t.Helper()
	_, err := bs.MicrosoftBinding(t.Context(), tenant, key)
	wantErr(t, err, store.ErrNotFound, what+": MicrosoftBinding")
	_, err = bs.UserMicrosoftBinding(t.Context(), tenant, userID)
	wantErr(t, err, store.ErrNotFound, what+": UserMicrosoftBinding")
}

// openRules are a tenant's rules with both selections used.
func openRules(tenantID string) store.MicrosoftRules {
	return store.MicrosoftRules{TenantID: tenantID,
		Administrator: store.MicrosoftRule{Enabled: true, SyncType: store.SelectInclude, SelectedUsers: []string{"admin@acme.example", "0b5c3a56-5d4e-4a8b-9a1f-0c2d3e4f5a6b"}},
		StandardUser:  store.MicrosoftRule{Enabled: false, SyncType: store.SelectExclude, SelectedUsers: []string{"guest@acme.example"}}}
}

var bindingChecks = []check{
	{name: "RoundTrip", fn: func(t tb, s store.Store) {
		bs, ctx := bindingStore(t, s), t.Context()
		addUser(t, s, user("u-1", "t-1", "u1"), user("u-2", "t-1", "u2"), user("u-3", "t-2", "u3"))
		wantUnbound(t, bs, "t-1", "u-1", "oid:1", "before any binding")
		must(t, bs.BindMicrosoft(ctx, binding("t-1", "u-1", "oid:1")), "BindMicrosoft")
		wantBound(t, bs, binding("t-1", "u-1", "oid:1"), "after BindMicrosoft")
		// Keys are per tenant and per kind: the same value bound elsewhere
		// or as the other kind is another key.
		must(t, bs.BindMicrosoft(ctx, binding("t-2", "u-3", "oid:1")), "BindMicrosoft of the key in another tenant")
		must(t, bs.BindMicrosoft(ctx, binding("t-1", "u-2", "upn:1")), "BindMicrosoft of another kind of key")
		wantBound(t, bs, binding("t-1", "u-1", "oid:1"), "after bindings elsewhere")
		wantBound(t, bs, binding("t-2", "u-3", "oid:1"), "the other tenant's")
		_, err := bs.UserMicrosoftBinding(ctx, "t-2", "u-1")
		wantErr(t, err, store.ErrNotFound, "UserMicrosoftBinding in another tenant")
		// Binding again replaces the user's binding; the old key is free.
		must(t, bs.BindMicrosoft(ctx, binding("t-1", "u-1", "upn:alice@acme.example")), "BindMicrosoft replacing")
		wantBound(t, bs, binding("t-1", "u-1", "upn:alice@acme.example"), "after the replacement")
		_, err = bs.MicrosoftBinding(ctx, "t-1", "oid:1")
		wantErr(t, err, store.ErrNotFound, "MicrosoftBinding of the replaced key")
		must(t, bs.BindMicrosoft(ctx, binding("t-1", "u-2", "oid:1")), "BindMicrosoft of the freed key to another user")
		// Binding the same again changes nothing.
		must(t, bs.BindMicrosoft(ctx, binding("t-1", "u-2", "oid:1")), "BindMicrosoft of the same binding")
		wantBound(t, bs, binding("t-1", "u-2", "oid:1"), "after binding the same again")
		had, err := bs.UnbindMicrosoft(ctx, "t-1", "u-2")
		wantErr(t, err, nil, "UnbindMicrosoft")
		if !had {
			t.Errorf("UnbindMicrosoft of a bound user reported no binding")
		}
		wantUnbound(t, bs, "t-1", "u-2", "oid:1", "after UnbindMicrosoft")
		had, err = bs.UnbindMicrosoft(ctx, "t-1", "u-2")
		wantErr(t, err, nil, "UnbindMicrosoft of an unbound user")
		if had {
			t.Errorf("UnbindMicrosoft of an unbound user reported a binding")
		}
		wantBound(t, bs, binding("t-1", "u-1", "upn:alice@acme.example"), "another user's after UnbindMicrosoft")
	}},
	{name: "Links", fn: func(t tb, s store.Store) {
		bs, ctx := bindingStore(t, s), t.Context()
		addUser(t, s, user("u-1", "t-1", "u1"), user("u-2", "t-1", "u2"), user("u-3", "t-2", "u3"))
		must(t, s.LinkIdentity(ctx, link("t-1", "sub:1", "u-1")), "LinkIdentity")
		must(t, s.LinkIdentity(ctx, link("t-1", "oid:2", "u-2")), "LinkIdentity")
		must(t, s.LinkIdentity(ctx, link("t-2", "oid:3", "u-3")), "LinkIdentity")
		// Another user's link holds the key: refused, nothing changed.
		wantErr(t, bs.BindMicrosoft(ctx, binding("t-1", "u-1", "oid:2")), store.ErrConflict, "BindMicrosoft of a key another user's link holds")
		wantUnbound(t, bs, "t-1", "u-1", "oid:2", "after the refusal")
		wantLinked(t, s, link("t-1", "sub:1", "u-1"), "the binder's link after the refusal")
		// A link in another tenant holds nothing here.
		must(t, bs.BindMicrosoft(ctx, binding("t-1", "u-1", "oid:3")), "BindMicrosoft of a key linked in another tenant")
		_, err := s.IdentityUser(ctx, "t-1", linkIssuer, "sub:1")
		wantErr(t, err, store.ErrNotFound, "the bound user's earlier link")
		wantLinked(t, s, link("t-2", "oid:3", "u-3"), "the other tenant's link")
		wantLinked(t, s, link("t-1", "oid:2", "u-2"), "another user's link")
		// The user's own link of the key does not hold it against them.
		must(t, bs.BindMicrosoft(ctx, binding("t-1", "u-2", "oid:2")), "BindMicrosoft of the user's own linked key")
		_, err = s.IdentityUser(ctx, "t-1", linkIssuer, "oid:2")
		wantErr(t, err, store.ErrNotFound, "the link a binding replaced")
		// Unbinding ends the links made since.
		must(t, s.LinkIdentity(ctx, link("t-1", "oid:2", "u-2")), "LinkIdentity through the binding")
		_, err = bs.UnbindMicrosoft(ctx, "t-1", "u-2")
		wantErr(t, err, nil, "UnbindMicrosoft")
		_, err = s.IdentityUser(ctx, "t-1", linkIssuer, "oid:2")
		wantErr(t, err, store.ErrNotFound, "the link after UnbindMicrosoft")
		must(t, s.LinkIdentity(ctx, link("t-1", "oid:9", "u-2")), "LinkIdentity of the unbound user")
	}},
	{name: "LinkUnbound", fn: func(t tb, s store.Store) {
		bs, ctx := bindingStore(t, s), t.Context()
		addUser(t, s, user("u-1", "t-1", "u1"), user("u-2", "t-1", "u2"), user("u-3", "t-2", "u3"))
		must(t, bs.BindMicrosoft(ctx, binding("t-1", "u-1", "oid:1")), "BindMicrosoft")
		wantErr(t, bs.LinkUnbound(ctx, link("t-1", "sub:9", "u-1")), store.ErrStale, "LinkUnbound of a bound user")
		_, err := s.IdentityUser(ctx, "t-1", linkIssuer, "sub:9")
		wantErr(t, err, store.ErrNotFound, "the refused link")
		must(t, bs.LinkUnbound(ctx, link("t-1", "sub:9", "u-2")), "LinkUnbound of an unbound user")
		wantLinked(t, s, link("t-1", "sub:9", "u-2"), "after LinkUnbound")
		wantErr(t, bs.LinkUnbound(ctx, link("t-1", "sub:8", "u-2")), store.ErrConflict, "LinkUnbound of a linked user")
		// A binding in another tenant does not hold the user here.
		must(t, bs.BindMicrosoft(ctx, binding("t-2", "u-3", "oid:1")), "BindMicrosoft")
		must(t, bs.LinkUnbound(ctx, link("t-1", "sub:7", "u-3")), "LinkUnbound of a user bound elsewhere")
		wantErr(t, bs.LinkUnbound(ctx, store.Identity{TenantID: "t-1", Subject: "sub:6", UserID: "u-2"}), store.ErrInvalid, "LinkUnbound without issuer")
		// After UnbindMicrosoft the user links again.
		_, err = bs.UnbindMicrosoft(ctx, "t-1", "u-1")
		wantErr(t, err, nil, "UnbindMicrosoft")
		wantErr(t, bs.LinkUnbound(ctx, link("t-1", "sub:9", "u-1")), store.ErrConflict, "LinkUnbound of a linked account")
		must(t, bs.LinkUnbound(ctx, link("t-1", "sub:5", "u-1")), "LinkUnbound after UnbindMicrosoft")
	}},
	{name: "ConcurrentBindAndLink", pair: func(t tb, a, b store.Store) {
		// Bindings of a user race links of accounts matched by email to
		// that user, through two handles: no link outlives the binding.
		addUser(t, a, user("u-1", "t-1", "u1"))
		errs := concurrently(racers, func(i int) error {
			bs := bindingStore(t, either(a, b, i/2))
			if i%2 == 0 {
				return bs.BindMicrosoft(t.Context(), binding("t-1", "u-1", "oid:bound"))
			}
			return bs.LinkUnbound(t.Context(), link("t-1", fmt.Sprintf("sub:%d", i), "u-1"))
		})
		for i, err := range errs {
			switch {
			case i%2 == 0:
				wantErr(t, err, nil, fmt.Sprintf("BindMicrosoft racer %d", i))
			case err != nil && !errors.Is(err, store.ErrStale) && !errors.Is(err, store.ErrConflict):
				t.Errorf("LinkUnbound racer %d: %v, want nil, ErrStale or ErrConflict", i, err)
			}
		}
		for i := 1; i < racers; i += 2 {
			_, err := a.IdentityUser(t.Context(), "t-1", linkIssuer, fmt.Sprintf("sub:%d", i))
			wantErr(t, err, store.ErrNotFound, fmt.Sprintf("racer %d's link after the race", i))
		}
		wantBound(t, bindingStore(t, b), binding("t-1", "u-1", "oid:bound"), "after the race")
	}},
	{name: "Refused", fn: func(t tb, s store.Store) {
		bs, ctx := bindingStore(t, s), t.Context()
		addUser(t, s, user("u-1", "t-1", "u1"), user("u-2", "t-1", "u2"), user("u-3", "t-2", "u3"))
		must(t, bs.BindMicrosoft(ctx, binding("t-1", "u-1", "oid:1")), "BindMicrosoft")
		wantErr(t, bs.BindMicrosoft(ctx, binding("t-1", "u-2", "oid:1")), store.ErrConflict, "BindMicrosoft of another user's key")
		wantErr(t, bs.BindMicrosoft(ctx, binding("t-1", "u-nobody", "oid:2")), store.ErrNotFound, "BindMicrosoft of an unknown user")
		wantErr(t, bs.BindMicrosoft(ctx, binding("t-1", "u-3", "oid:2")), store.ErrNotFound, "BindMicrosoft of another tenant's user")
		for _, bad := range []store.MicrosoftBinding{
			binding("t-1", "u-2", "1"), binding("t-1", "u-2", "oid:"), binding("t-1", "u-2", "upn:"),
			binding("", "u-2", "oid:2"), binding("t-1", "", "oid:2"),
		} {
			wantErr(t, bs.BindMicrosoft(ctx, bad), store.ErrInvalid, fmt.Sprintf("BindMicrosoft of %+v", bad))
		}
		wantBound(t, bs, binding("t-1", "u-1", "oid:1"), "after the refusals")
		_, err := bs.UserMicrosoftBinding(ctx, "t-1", "u-2")
		wantErr(t, err, store.ErrNotFound, "the refused user's binding")
	}},
	{name: "Reset", fn: func(t tb, s store.Store) {
		bs, ctx := bindingStore(t, s), t.Context()
		addUser(t, s, user("u-1", "t-1", "u1"), user("u-2", "t-1", "u2"), user("u-3", "t-1", "u3"), user("u-4", "t-2", "u4"))
		must(t, bs.BindMicrosoft(ctx, binding("t-1", "u-1", "oid:1")), "BindMicrosoft")
		must(t, s.LinkIdentity(ctx, link("t-1", "oid:1", "u-1")), "LinkIdentity")
		must(t, s.LinkIdentity(ctx, link("t-1", "sub:2", "u-2")), "LinkIdentity")
		must(t, bs.BindMicrosoft(ctx, binding("t-2", "u-4", "oid:1")), "BindMicrosoft")
		got, err := bs.ResetMicrosoft(ctx, "t-1")
		wantErr(t, err, nil, "ResetMicrosoft")
		slices.Sort(got.UserIDs)
		equal(t, "what ResetMicrosoft removed", got, store.MicrosoftReset{UserIDs: []string{"u-1", "u-2"}, Links: 2, Bindings: 1})
		wantUnbound(t, bs, "t-1", "u-1", "oid:1", "after ResetMicrosoft")
		for _, sub := range []string{"oid:1", "sub:2"} {
			_, err := s.IdentityUser(ctx, "t-1", linkIssuer, sub)
			wantErr(t, err, store.ErrNotFound, "a link after ResetMicrosoft")
		}
		wantBound(t, bs, binding("t-2", "u-4", "oid:1"), "another tenant's after ResetMicrosoft")
		got, err = bs.ResetMicrosoft(ctx, "t-1")
		wantErr(t, err, nil, "ResetMicrosoft again")
		equal(t, "what a second ResetMicrosoft removed", got, store.MicrosoftReset{})
	}},
	{name: "ConcurrentBindings", pair: func(t tb, a, b store.Store) {
		// Admins bind one account to different users at once, through two
		// handles: exactly one binding is stored.
		for i := range racers {
			addUser(t, a, user(fmt.Sprintf("u-%d", i), "t-1", fmt.Sprintf("u%d", i)))
		}
		errs := concurrently(racers, func(i int) error {
			return bindingStore(t, either(a, b, i)).BindMicrosoft(t.Context(), binding("t-1", fmt.Sprintf("u-%d", i), "upn:shared@acme.example"))
		})
		won := oneWinner(t, "BindMicrosoft of one key to many users", errs, store.ErrConflict)
		wantBound(t, bindingStore(t, b), binding("t-1", fmt.Sprintf("u-%d", won), "upn:shared@acme.example"), "after the race")
		for i := range racers {
			if i != won {
				_, err := bindingStore(t, a).UserMicrosoftBinding(t.Context(), "t-1", fmt.Sprintf("u-%d", i))
				wantErr(t, err, store.ErrNotFound, "a loser's binding")
			}
		}
	}},
	{name: "ConcurrentBindingsOfOneUser", pair: func(t tb, a, b store.Store) {
		// One user bound to many accounts at once: each binding replaces
		// the last, and the user ends with exactly one.
		addUser(t, a, user("u-1", "t-1", "u1"))
		errs := concurrently(racers, func(i int) error {
			return bindingStore(t, either(a, b, i)).BindMicrosoft(t.Context(), binding("t-1", "u-1", fmt.Sprintf("oid:%d", i)))
		})
		for i, err := range errs {
			wantErr(t, err, nil, fmt.Sprintf("racer %d", i))
		}
		got, err := bindingStore(t, b).UserMicrosoftBinding(t.Context(), "t-1", "u-1")
		wantErr(t, err, nil, "UserMicrosoftBinding after the race")
		bound := 0
		for i := range racers {
			if _, err := bindingStore(t, a).MicrosoftBinding(t.Context(), "t-1", fmt.Sprintf("oid:%d", i)); err == nil {
				bound++
			}
		}
		if bound != 1 {
			t.Errorf("%d keys bound after the race, want 1 (the user's %s)", bound, got.Key)
		}
	}},
	{name: "Rules", fn: func(t tb, s store.Store) {
		bs, ctx := bindingStore(t, s), t.Context()
		ensureTenant(t, s, "t-1")
		ensureTenant(t, s, "t-2")
		_, err := bs.MicrosoftRules(ctx, "t-1")
		wantErr(t, err, store.ErrNotFound, "MicrosoftRules before any were stored")
		must(t, bs.PutMicrosoftRules(ctx, openRules("t-1")), "PutMicrosoftRules")
		want := openRules("t-1")
		want.Version = 1
		got, err := bs.MicrosoftRules(ctx, "t-1")
		wantErr(t, err, nil, "MicrosoftRules")
		equal(t, "the stored rules", got, want)
		_, err = bs.MicrosoftRules(ctx, "t-2")
		wantErr(t, err, store.ErrNotFound, "MicrosoftRules of another tenant")
		wantErr(t, bs.PutMicrosoftRules(ctx, openRules("t-1")), store.ErrConflict, "PutMicrosoftRules of version 0 over stored rules")
		next := store.MicrosoftRules{TenantID: "t-1", Version: 1,
			Administrator: store.MicrosoftRule{SyncType: store.SelectAll},
			StandardUser:  store.MicrosoftRule{Enabled: true, SyncType: store.SelectAll}}
		must(t, bs.PutMicrosoftRules(ctx, next), "PutMicrosoftRules over version 1")
		next.Version = 2
		got, _ = bs.MicrosoftRules(ctx, "t-1")
		equal(t, "the replaced rules (empty selections are nil)", got, next)
		wantErr(t, bs.PutMicrosoftRules(ctx, openRules("t-nowhere")), store.ErrNotFound, "PutMicrosoftRules of an unknown tenant")
		for _, bad := range []store.MicrosoftRules{
			{TenantID: "t-2", Administrator: store.MicrosoftRule{SyncType: "SOME"}, StandardUser: store.MicrosoftRule{SyncType: store.SelectAll}},
			{TenantID: "t-2", Administrator: store.MicrosoftRule{SyncType: store.SelectAll}},
			{TenantID: "t-2", Administrator: store.MicrosoftRule{SyncType: store.SelectAll}, StandardUser: store.MicrosoftRule{SyncType: store.SelectAll, SelectedUsers: []string{""}}},
			{Administrator: store.MicrosoftRule{SyncType: store.SelectAll}, StandardUser: store.MicrosoftRule{SyncType: store.SelectAll}},
		} {
			wantErr(t, bs.PutMicrosoftRules(ctx, bad), store.ErrInvalid, fmt.Sprintf("PutMicrosoftRules of %+v", bad))
		}
		_, err = bs.MicrosoftRules(ctx, "t-2")
		wantErr(t, err, store.ErrNotFound, "MicrosoftRules after refused puts")
	}},
	{name: "ConcurrentRules", pair: func(t tb, a, b store.Store) {
		ensureTenant(t, a, "t-1")
		for version := range int64(2) { // the first rules, then a replacement
			errs := concurrently(racers, func(i int) error {
				r := openRules("t-1")
				r.Version = version
				r.StandardUser.SelectedUsers = []string{fmt.Sprintf("racer%d@acme.example", i)}
				return bindingStore(t, either(a, b, i)).PutMicrosoftRules(t.Context(), r)
			})
			won := oneWinner(t, fmt.Sprintf("PutMicrosoftRules of version %d", version), errs, store.ErrConflict)
			got, _ := bindingStore(t, b).MicrosoftRules(t.Context(), "t-1")
			want := openRules("t-1")
			want.Version = version + 1
			want.StandardUser.SelectedUsers = []string{fmt.Sprintf("racer%d@acme.example", won)}
			equal(t, "the winner's rules", got, want)
		}
	}},
}
