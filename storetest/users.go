// This file checks users: case-insensitive usernames unique within a tenant,
// tenant isolation of lookups, and the password operations.

package storetest

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pbxauth/pbxauth/store"
)

// user returns a user with a password and the usual fields set.
func user(id, tenantID, username string) store.User {
	return store.User{
		ID:           id,
		TenantID:     tenantID,
		Username:     username,
		Email:        username + "@example.com",
		Role:         "User",
		PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$" + id,
	}
}

// addUser creates users, and their tenants if need be, or stops the check.
func addUser(t tb, s store.Store, users ...store.User) {
	t.Helper()
	for _, u := range users {
		ensureTenant(t, s, u.TenantID)
		must(t, s.CreateUser(t.Context(), u), "CreateUser "+u.ID)
	}
}

// ensureTenant creates the tenant with the given ID unless it exists or is
// "", the system: a store refuses a user of a tenant that does not exist.
func ensureTenant(t tb, s store.Store, id string) {
	t.Helper()
	if id == "" {
		return
	}
	_, err := s.Tenant(t.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		err = s.CreateTenant(t.Context(), store.Tenant{ID: id, Name: id, Domain: id + ".example"})
	}
	must(t, err, "ensuring tenant "+id)
}

// wantUser checks that the user is found by its ID and, in any case, by its
// tenant and username.
func wantUser(t tb, s store.Store, want store.User) {
	t.Helper()
	got, err := s.User(t.Context(), want.ID)
	wantErr(t, err, nil, "User "+want.ID)
	// How the epoch moves is the Epoch section's concern.
	want.Epoch = got.Epoch
	equal(t, "User "+want.ID, got, want)
	for _, name := range caseVariants(want.Username) {
		what := fmt.Sprintf("UserByName(%q, %q)", want.TenantID, name)
		got, err := s.UserByName(t.Context(), want.TenantID, name)
		wantErr(t, err, nil, what)
		equal(t, what, got, want)
	}
}

var userChecks = []check{
	{name: "RoundTrip", fn: func(t tb, s store.Store) {
		full := store.User{
			ID:                 "u-1",
			TenantID:           "t-acme",
			Username:           "Alice.Smith",
			Email:              "Alice@Acme.Example",
			Role:               "Admin",
			PasswordHash:       "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g",
			TwoFactorEnabled:   true,
			PasswordForceReset: true,
			Disabled:           true,
		}
		system := store.User{ID: "u-2", Username: "admin", Role: "SystemAdmin"}
		addUser(t, s, full, system)
		wantUser(t, s, full)
		wantUser(t, s, system)
	}},
	{name: "Missing", fn: func(t tb, s store.Store) {
		addUser(t, s, user("u-1", "t-acme", "alice"))
		ctx := t.Context()
		for _, c := range []struct {
			name string
			call func() error
		}{
			{"User", func() error { _, err := s.User(ctx, "u-missing"); return err }},
			{"UserByName", func() error { _, err := s.UserByName(ctx, "t-acme", "bob"); return err }},
			{"UpdateUser", func() error { return s.UpdateUser(ctx, user("u-missing", "t-acme", "bob")) }},
			{"SwapPasswordHash", func() error { return s.SwapPasswordHash(ctx, "u-missing", "", "new") }},
			{"ResetPassword", func() error { return s.ResetPassword(ctx, "u-missing", "new", false) }},
		} {
			wantErr(t, c.call(), store.ErrNotFound, c.name+" of a missing user")
		}
		_, err := s.UserByName(ctx, "t-acme", "bob")
		wantErr(t, err, store.ErrNotFound, "UserByName after a failed UpdateUser")
	}},
	{name: "CreateConflicts", fn: func(t tb, s store.Store) {
		alice := user("u-1", "t-acme", "Alice")
		addUser(t, s, alice)
		for _, c := range []struct {
			name string
			u    store.User
		}{
			{"same ID", user(alice.ID, alice.TenantID, "bob")},
			{"same username in another case", user("u-2", alice.TenantID, "aLICE")},
		} {
			wantErr(t, s.CreateUser(t.Context(), c.u), store.ErrConflict, "CreateUser with the "+c.name)
		}
		wantUser(t, s, alice)
		_, err := s.User(t.Context(), "u-2")
		wantErr(t, err, store.ErrNotFound, "User refused for its username")
		_, err = s.UserByName(t.Context(), alice.TenantID, "bob")
		wantErr(t, err, store.ErrNotFound, "UserByName of the user refused for its ID")
	}},
	{name: "TenantIsolation", fn: func(t tb, s store.Store) {
		// The same username in the system and in two tenants: three users.
		users := []store.User{
			user("u-sys", "", "alice"),
			user("u-acme", "t-acme", "Alice"),
			user("u-globex", "t-globex", "ALICE"),
		}
		addUser(t, s, users...)
		for _, u := range users {
			wantUser(t, s, u)
		}
		_, err := s.UserByName(t.Context(), "t-other", "alice")
		wantErr(t, err, store.ErrNotFound, "UserByName in a tenant without the user")
	}},
	{name: "UsersByEmail", fn: func(t tb, s store.Store) {
		email := func(u store.User, e string) store.User { u.Email = e; return u }
		a := email(user("u-a", "t-acme", "a"), "Bob@Example.com")
		b := email(user("u-b", "t-acme", "b"), "bob@example.com")
		addUser(t, s, a, b,
			email(user("u-c", "t-acme", "c"), "carol@example.com"),
			email(user("u-d", "t-globex", "d"), "bob@example.com"),
			email(user("u-e", "", "e"), "bob@example.com"),
		)
		got, err := s.UsersByEmail(t.Context(), "t-acme", "BOB@example.COM")
		wantErr(t, err, nil, "UsersByEmail")
		slices.SortFunc(got, func(x, y store.User) int { return cmp.Compare(x.ID, y.ID) })
		equal(t, "UsersByEmail of a tenant", got, []store.User{a, b})

		got, err = s.UsersByEmail(t.Context(), "", "bob@example.com")
		wantErr(t, err, nil, "UsersByEmail of the system")
		if len(got) != 1 || got[0].ID != "u-e" {
			t.Errorf("UsersByEmail of the system: got %+v, want only u-e", got)
		}

		got, err = s.UsersByEmail(t.Context(), "t-acme", "nobody@example.com")
		wantErr(t, err, nil, "UsersByEmail of an unknown email")
		if len(got) != 0 {
			t.Errorf("UsersByEmail of an unknown email: got %+v, want none", got)
		}
	}},
	{name: "Update", fn: func(t tb, s store.Store) {
		alice, bob := user("u-1", "t-acme", "alice"), user("u-2", "t-acme", "bob")
		addUser(t, s, alice, bob)

		renamed := store.User{
			ID:                 alice.ID,
			TenantID:           alice.TenantID,
			Username:           "Alicia",
			Email:              "alicia@example.com",
			Role:               "Admin",
			PasswordHash:       "new-hash",
			TwoFactorEnabled:   true,
			PasswordForceReset: true,
			Disabled:           true,
		}
		must(t, s.UpdateUser(t.Context(), renamed), "UpdateUser to a new username")
		wantUser(t, s, renamed)
		_, err := s.UserByName(t.Context(), alice.TenantID, alice.Username)
		wantErr(t, err, store.ErrNotFound, "UserByName of the username given up")

		recased := renamed
		recased.Username = strings.ToUpper(renamed.Username)
		must(t, s.UpdateUser(t.Context(), recased), "UpdateUser to its own username in another case")
		wantUser(t, s, recased)

		taken := recased
		taken.Username = "BOB"
		wantErr(t, s.UpdateUser(t.Context(), taken), store.ErrConflict, "UpdateUser to another user's username")
		wantUser(t, s, recased)
		wantUser(t, s, bob)

		// The username given up is free again.
		again := user("u-3", alice.TenantID, alice.Username)
		addUser(t, s, again)
		wantUser(t, s, again)
	}},
	{name: "SwapPasswordHash", fn: func(t tb, s store.Store) {
		u := user("u-1", "t-acme", "alice")
		u.PasswordHash = "h1"
		u.PasswordForceReset = true
		addUser(t, s, u)
		for _, step := range []struct {
			old, new string
			err      error
			want     string
		}{
			{"h0", "h2", store.ErrConflict, "h1"},
			{"h1", "h2", nil, "h2"},
			{"h1", "h3", store.ErrConflict, "h2"},
			{"h2", "", nil, ""},
		} {
			err := s.SwapPasswordHash(t.Context(), u.ID, step.old, step.new)
			wantErr(t, err, step.err, fmt.Sprintf("SwapPasswordHash(%q, %q)", step.old, step.new))
			u.PasswordHash = step.want
			wantUser(t, s, u)
		}
	}},
	{name: "ResetPassword", fn: func(t tb, s store.Store) {
		alice, bob := user("u-1", "t-acme", "alice"), user("u-2", "t-acme", "bob")
		alice.PasswordForceReset = true
		alice.TwoFactorEnabled = true
		bob.PasswordForceReset = true
		addUser(t, s, alice, bob)
		aliceDevices := []store.Device{device("alice-1", alice.ID, 0), device("alice-2", alice.ID, 0)}
		bobDevice := device("bob", bob.ID, 0)
		for _, d := range append(aliceDevices, bobDevice) {
			addDevice(t, s, d, 10, base)
		}
		aliceSessions := []session{signInOn(t, s, alice.ID, "f-1", "d-alice-1"), signIn(t, s, alice.ID, "f-2")}
		bobSession := signIn(t, s, bob.ID, "f-3")

		must(t, s.ResetPassword(t.Context(), alice.ID, "new-hash", false), "ResetPassword")
		alice.PasswordHash = "new-hash"
		alice.PasswordForceReset = false
		wantUser(t, s, alice)
		wantUser(t, s, bob)
		for _, ss := range aliceSessions {
			ss.wantRevoked(t, s, "after ResetPassword")
		}
		bobSession.wantLive(t, s, "another user's after ResetPassword")
		// Every device of the user goes in the same step; another user's stay.
		for _, d := range aliceDevices {
			wantDevice(t, s, d.Hash, store.Device{}, base, d.ID+" after ResetPassword")
		}
		wantDevice(t, s, bobDevice.Hash, bobDevice, base, "another user's after ResetPassword")

		// An administrator's set: the flag is set with the hash.
		must(t, s.ResetPassword(t.Context(), bob.ID, "set-hash", true), "ResetPassword forcing a reset")
		bob.PasswordHash = "set-hash"
		wantUser(t, s, bob)
		bobSession.wantRevoked(t, s, "after ResetPassword forcing a reset")
		wantDevice(t, s, bobDevice.Hash, store.Device{}, base, "after ResetPassword forcing a reset")
		bob.PasswordForceReset = false
		must(t, s.ResetPassword(t.Context(), bob.ID, "set-hash", false), "ResetPassword clearing the flag")
		wantUser(t, s, bob)
	}},
	{name: "ConcurrentCreate", fn: func(t tb, s store.Store) {
		ensureTenant(t, s, "t-acme")
		errs := concurrently(racers, func(i int) error {
			name := "carol"
			if i%2 == 1 {
				name = "Carol"
			}
			return s.CreateUser(t.Context(), user(fmt.Sprintf("u-%d", i), "t-acme", name))
		})
		winner := oneWinner(t, "CreateUser of one username", errs, store.ErrConflict)
		got, err := s.UserByName(t.Context(), "t-acme", "CAROL")
		wantErr(t, err, nil, "UserByName of the winner")
		if want := fmt.Sprintf("u-%d", winner); got.ID != want {
			t.Errorf("UserByName found %s, want the winner %s", got.ID, want)
		}
	}},
}
