// This file checks the optional store.MS365CredentialStore: credentials
// round trip whole and per tenant; a new current credential replaces only
// current, over the version it was read at (of concurrent replacements
// across two handles exactly one wins), keeping known_good; confirming and
// dropping act only on the version they name, a confirmed current is
// never dropped, and of concurrent drops one succeeds.

package storetest

import (
	"fmt"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// msCredStore returns s as an MS365CredentialStore, or skips the check.
func msCredStore(t tb, s store.Store) store.MS365CredentialStore {
	t.Helper()
	return capability[store.MS365CredentialStore](t, s)
}

// certCredential is a certificate credential named for the suite.
func certCredential(name string) store.MS365Credential {
	return store.MS365Credential{ClientCertificate: "cert-" + name, ClientPrivateKey: "pbxauth-sealed:key-" + name}
}

// firstCredentials are a tenant's first certificate, over its secret.
func firstCredentials(tenantID string) store.MS365Credentials {
	return store.MS365Credentials{TenantID: tenantID, Current: certCredential("one"), CurrentSince: at(time.Hour),
		KnownGood: store.MS365Credential{ClientSecret: "pbxauth-sealed:secret"}}
}

var ms365CredentialChecks = []check{
	{name: "RoundTrip", fn: func(t tb, s store.Store) {
		cs, ctx := msCredStore(t, s), t.Context()
		ensureTenant(t, s, "t-acme")
		ensureTenant(t, s, "t-globex")
		_, err := cs.MS365Credentials(ctx, "t-acme")
		wantErr(t, err, store.ErrNotFound, "MS365Credentials before any was stored")
		first := firstCredentials("t-acme")
		first.Confirmed = true // ignored: a new current is never confirmed
		must(t, cs.ReplaceMS365Current(ctx, first), "ReplaceMS365Current of the first certificate")
		want := firstCredentials("t-acme")
		want.Version = 1
		got, err := cs.MS365Credentials(ctx, "t-acme")
		wantErr(t, err, nil, "MS365Credentials")
		equal(t, "the first credentials", got, want)
		_, err = cs.MS365Credentials(ctx, "t-globex")
		wantErr(t, err, store.ErrNotFound, "MS365Credentials of another tenant")

		next := store.MS365Credentials{TenantID: "t-acme", Current: certCredential("two"), CurrentSince: at(2 * time.Hour),
			KnownGood: certCredential("ignored"), Version: 1}
		must(t, cs.ReplaceMS365Current(ctx, next), "ReplaceMS365Current over version 1")
		want.Current, want.CurrentSince, want.Version = next.Current, next.CurrentSince, 2
		got, _ = cs.MS365Credentials(ctx, "t-acme")
		equal(t, "the credentials after a replacement (known good kept)", got, want)

		must(t, cs.ConfirmMS365Current(ctx, "t-acme", 2), "ConfirmMS365Current")
		want.KnownGood, want.Confirmed = next.Current, true
		got, _ = cs.MS365Credentials(ctx, "t-acme")
		equal(t, "the credentials after confirming", got, want)

		third := store.MS365Credentials{TenantID: "t-acme", Current: certCredential("three"), CurrentSince: at(3 * time.Hour), Version: 2}
		must(t, cs.ReplaceMS365Current(ctx, third), "ReplaceMS365Current over a confirmed one")
		want.Current, want.CurrentSince, want.Confirmed, want.Version = third.Current, third.CurrentSince, false, 3
		got, _ = cs.MS365Credentials(ctx, "t-acme")
		equal(t, "the credentials after replacing a confirmed one", got, want)

		must(t, cs.ForgetMS365Credentials(ctx, "t-acme"), "ForgetMS365Credentials")
		must(t, cs.ForgetMS365Credentials(ctx, "t-acme"), "ForgetMS365Credentials of none")
		_, err = cs.MS365Credentials(ctx, "t-acme")
		wantErr(t, err, store.ErrNotFound, "MS365Credentials after ForgetMS365Credentials")
	}},
	{name: "Refused", fn: func(t tb, s store.Store) {
		cs, ctx := msCredStore(t, s), t.Context()
		ensureTenant(t, s, "t-acme")
		wantErr(t, cs.ReplaceMS365Current(ctx, firstCredentials("t-nowhere")), store.ErrNotFound, "ReplaceMS365Current of an unknown tenant")
		for _, bad := range []store.MS365Credentials{
			{TenantID: "t-acme"},
			{Current: certCredential("x")},
			{TenantID: "t-acme", Current: certCredential("x"), Version: -1},
		} {
			wantErr(t, cs.ReplaceMS365Current(ctx, bad), store.ErrInvalid, "ReplaceMS365Current of invalid credentials")
		}
		wantErr(t, cs.ConfirmMS365Current(ctx, "t-acme", 0), store.ErrStale, "ConfirmMS365Current with none stored")
		wantErr(t, cs.DropMS365KnownGood(ctx, "t-acme", 0), store.ErrStale, "DropMS365KnownGood with none stored")
		_, err := cs.MS365Credentials(ctx, "t-acme")
		wantErr(t, err, store.ErrNotFound, "MS365Credentials after refused changes")
	}},
	{name: "Versions", fn: func(t tb, s store.Store) {
		cs, ctx := msCredStore(t, s), t.Context()
		ensureTenant(t, s, "t-acme")
		must(t, cs.ReplaceMS365Current(ctx, firstCredentials("t-acme")), "ReplaceMS365Current")
		later := store.MS365Credentials{TenantID: "t-acme", Current: certCredential("two"), CurrentSince: at(2 * time.Hour)}
		wantErr(t, cs.ReplaceMS365Current(ctx, later), store.ErrConflict, "ReplaceMS365Current of version 0 over a stored one")
		later.Version = 2
		wantErr(t, cs.ReplaceMS365Current(ctx, later), store.ErrConflict, "ReplaceMS365Current of a version not stored")
		wantErr(t, cs.ConfirmMS365Current(ctx, "t-acme", 2), store.ErrStale, "ConfirmMS365Current of a version not stored")
		wantErr(t, cs.DropMS365KnownGood(ctx, "t-acme", 2), store.ErrStale, "DropMS365KnownGood of a version not stored")
		want := firstCredentials("t-acme")
		want.Version = 1
		got, _ := cs.MS365Credentials(ctx, "t-acme")
		equal(t, "the credentials after changes of other versions", got, want)

		later.Version = 1
		must(t, cs.ReplaceMS365Current(ctx, later), "ReplaceMS365Current of the stored version")
		wantErr(t, cs.ReplaceMS365Current(ctx, later), store.ErrConflict, "ReplaceMS365Current of the same version again")
		// A token call passed under version 1: its current is no more.
		wantErr(t, cs.ConfirmMS365Current(ctx, "t-acme", 1), store.ErrStale, "ConfirmMS365Current of a replaced version")
		must(t, cs.DropMS365KnownGood(ctx, "t-acme", 2), "DropMS365KnownGood")
		wantErr(t, cs.DropMS365KnownGood(ctx, "t-acme", 2), store.ErrStale, "DropMS365KnownGood of an empty known good")
		want.Current, want.CurrentSince, want.KnownGood, want.Version = later.Current, later.CurrentSince, store.MS365Credential{}, 2
		got, _ = cs.MS365Credentials(ctx, "t-acme")
		equal(t, "the credentials after dropping known good", got, want)

		must(t, cs.ConfirmMS365Current(ctx, "t-acme", 2), "ConfirmMS365Current after the drop")
		wantErr(t, cs.DropMS365KnownGood(ctx, "t-acme", 2), store.ErrStale, "DropMS365KnownGood of a confirmed current")
		want.KnownGood, want.Confirmed = later.Current, true
		got, _ = cs.MS365Credentials(ctx, "t-acme")
		equal(t, "a confirmed current's known good after a refused drop", got, want)
	}},
	{name: "ConcurrentReplace", pair: func(t tb, a, b store.Store) {
		ca, cb := msCredStore(t, a), msCredStore(t, b)
		ensureTenant(t, a, "t-acme")
		for version := range int64(3) { // the first certificate, then replacements
			errs := concurrently(racers, func(i int) error {
				cs := ca
				if i%2 == 1 {
					cs = cb
				}
				return cs.ReplaceMS365Current(t.Context(), store.MS365Credentials{TenantID: "t-acme",
					Current: certCredential(fmt.Sprint(i)), CurrentSince: at(time.Duration(i) * time.Minute),
					KnownGood: store.MS365Credential{ClientSecret: fmt.Sprint("secret-", i)}, Version: version})
			})
			won := oneWinner(t, fmt.Sprintf("ReplaceMS365Current of version %d", version), errs, store.ErrConflict)
			got, err := cb.MS365Credentials(t.Context(), "t-acme")
			wantErr(t, err, nil, "MS365Credentials")
			if version == 0 {
				equal(t, "the first winner's known good", got.KnownGood, store.MS365Credential{ClientSecret: fmt.Sprint("secret-", won)})
			}
			equal(t, "the winner's current", got.Current, certCredential(fmt.Sprint(won)))
			equal(t, "the version", got.Version, version+1)
		}
	}},
	{name: "ConcurrentDrop", pair: func(t tb, a, b store.Store) {
		ca, cb := msCredStore(t, a), msCredStore(t, b)
		ensureTenant(t, a, "t-acme")
		must(t, ca.ReplaceMS365Current(t.Context(), firstCredentials("t-acme")), "ReplaceMS365Current")
		errs := concurrently(racers, func(i int) error {
			if i%2 == 0 {
				return ca.DropMS365KnownGood(t.Context(), "t-acme", 1)
			}
			return cb.DropMS365KnownGood(t.Context(), "t-acme", 1)
		})
		oneWinner(t, "DropMS365KnownGood", errs, store.ErrStale)
	}},
	{name: "ConfirmOrDrop", pair: func(t tb, a, b store.Store) {
		ca, cb := msCredStore(t, a), msCredStore(t, b)
		ensureTenant(t, a, "t-acme")
		must(t, ca.ReplaceMS365Current(t.Context(), firstCredentials("t-acme")), "ReplaceMS365Current")
		// A token call confirming current races the overlap's end dropping
		// known good: whichever order, a confirmed current keeps itself as
		// known good.
		errs := concurrently(racers, func(i int) error {
			if i%2 == 0 {
				return ca.ConfirmMS365Current(t.Context(), "t-acme", 1)
			}
			_ = cb.DropMS365KnownGood(t.Context(), "t-acme", 1) // ErrStale once confirmed
			return nil
		})
		for i, err := range errs {
			wantErr(t, err, nil, fmt.Sprint("ConfirmMS365Current racer ", i))
		}
		got, _ := ca.MS365Credentials(t.Context(), "t-acme")
		if !got.Confirmed || got.KnownGood != got.Current {
			t.Errorf("after confirming and dropping: confirmed %v, known good %+v, want the current %+v", got.Confirmed, got.KnownGood, got.Current)
		}
	}},
}
