// This file checks the optional store.PasswordPolicyStore: a policy round
// trips whole, is kept per tenant, replaces the earlier one only over the
// version it was read at (of concurrent puts exactly one wins), and is
// refused for a tenant that does not exist or with lengths out of order.

package storetest

import (
	"fmt"

	"github.com/pbxauth/pbxauth/store"
)

// policyStore returns s as a PasswordPolicyStore, or skips the check.
func policyStore(t tb, s store.Store) store.PasswordPolicyStore {
	t.Helper()
	return capability[store.PasswordPolicyStore](t, s)
}

// strictPolicy is a policy of the tenant with every rule on.
func strictPolicy(tenantID string) store.PasswordPolicy {
	return store.PasswordPolicy{TenantID: tenantID, MinLength: 12, MaxLength: store.MaxPasswordLength,
		ContainsLetters: true, ContainsNumbers: true, ContainsSpecialLetters: true,
		DisableSequentialCharacters: true, DisableRepeatingCharacters: true, DisableAccountInformation: true}
}

var passwordPolicyChecks = []check{
	{name: "RoundTrip", fn: func(t tb, s store.Store) {
		ps, ctx := policyStore(t, s), t.Context()
		ensureTenant(t, s, "t-acme")
		ensureTenant(t, s, "t-globex")
		_, err := ps.PasswordPolicy(ctx, "t-acme")
		wantErr(t, err, store.ErrNotFound, "PasswordPolicy before any was stored")
		must(t, ps.PutPasswordPolicy(ctx, strictPolicy("t-acme")), "PutPasswordPolicy")
		stored := strictPolicy("t-acme")
		stored.Version = 1
		got, err := ps.PasswordPolicy(ctx, "t-acme")
		wantErr(t, err, nil, "PasswordPolicy")
		equal(t, "the stored policy", got, stored)
		_, err = ps.PasswordPolicy(ctx, "t-globex")
		wantErr(t, err, store.ErrNotFound, "PasswordPolicy of another tenant")
		// Each rule alone, so that a store that mixes up two columns fails.
		for i, set := range []func(*store.PasswordPolicy){
			func(p *store.PasswordPolicy) { p.ContainsLetters = true },
			func(p *store.PasswordPolicy) { p.ContainsNumbers = true },
			func(p *store.PasswordPolicy) { p.ContainsSpecialLetters = true },
			func(p *store.PasswordPolicy) { p.DisableSequentialCharacters = true },
			func(p *store.PasswordPolicy) { p.DisableRepeatingCharacters = true },
			func(p *store.PasswordPolicy) { p.DisableAccountInformation = true },
		} {
			want := store.PasswordPolicy{TenantID: "t-globex", MinLength: 8 + i, MaxLength: 32 + i, Version: int64(i)}
			set(&want)
			must(t, ps.PutPasswordPolicy(ctx, want), "PutPasswordPolicy replacing")
			want.Version++
			got, _ := ps.PasswordPolicy(ctx, "t-globex")
			equal(t, "the replaced policy", got, want)
		}
		got, _ = ps.PasswordPolicy(ctx, "t-acme")
		equal(t, "the first tenant's policy after the other's changes", got, stored)
	}},
	{name: "Refused", fn: func(t tb, s store.Store) {
		ps, ctx := policyStore(t, s), t.Context()
		ensureTenant(t, s, "t-acme")
		wantErr(t, ps.PutPasswordPolicy(ctx, strictPolicy("t-nowhere")), store.ErrNotFound, "PutPasswordPolicy of an unknown tenant")
		_, err := ps.PasswordPolicy(ctx, "t-nowhere")
		wantErr(t, err, store.ErrNotFound, "PasswordPolicy of an unknown tenant")
		must(t, ps.PutPasswordPolicy(ctx, strictPolicy("t-acme")), "PutPasswordPolicy")
		for _, bad := range []store.PasswordPolicy{
			{TenantID: "t-acme", MinLength: 9, MaxLength: 8},
			{TenantID: "t-acme", MinLength: 0, MaxLength: 8},
			{TenantID: "t-acme", MinLength: 8, MaxLength: store.MaxPasswordLength + 1},
			{MinLength: 8, MaxLength: 8},
		} {
			wantErr(t, ps.PutPasswordPolicy(ctx, bad), store.ErrInvalid, "PutPasswordPolicy of an invalid policy")
		}
		want := strictPolicy("t-acme")
		want.Version = 1
		got, _ := ps.PasswordPolicy(ctx, "t-acme")
		equal(t, "the policy after refused changes", got, want)
	}},
	{name: "Versions", fn: func(t tb, s store.Store) {
		ps, ctx := policyStore(t, s), t.Context()
		ensureTenant(t, s, "t-acme")
		must(t, ps.PutPasswordPolicy(ctx, strictPolicy("t-acme")), "PutPasswordPolicy")
		loose := store.PasswordPolicy{TenantID: "t-acme", MinLength: 8, MaxLength: 64}
		wantErr(t, ps.PutPasswordPolicy(ctx, loose), store.ErrConflict, "PutPasswordPolicy of version 0 over a stored policy")
		loose.Version = 2
		wantErr(t, ps.PutPasswordPolicy(ctx, loose), store.ErrConflict, "PutPasswordPolicy of a version not stored")
		want := strictPolicy("t-acme")
		want.Version = 1
		got, _ := ps.PasswordPolicy(ctx, "t-acme")
		equal(t, "the policy after puts of other versions", got, want)
		loose.Version = 1
		must(t, ps.PutPasswordPolicy(ctx, loose), "PutPasswordPolicy of the stored version")
		wantErr(t, ps.PutPasswordPolicy(ctx, loose), store.ErrConflict, "PutPasswordPolicy of the same version again")
		loose.Version = 2
		got, _ = ps.PasswordPolicy(ctx, "t-acme")
		equal(t, "the policy put over version 1", got, loose)
	}},
	{name: "ConcurrentPut", fn: func(t tb, s store.Store) {
		ps := policyStore(t, s)
		ensureTenant(t, s, "t-acme")
		for version := range int64(2) { // the first policy, then a replacement
			errs := concurrently(racers, func(i int) error {
				return ps.PutPasswordPolicy(t.Context(), store.PasswordPolicy{TenantID: "t-acme", MinLength: 8 + i, MaxLength: 64, Version: version})
			})
			won := oneWinner(t, fmt.Sprintf("PutPasswordPolicy of version %d", version), errs, store.ErrConflict)
			got, _ := ps.PasswordPolicy(t.Context(), "t-acme")
			equal(t, "the winner's policy", got, store.PasswordPolicy{TenantID: "t-acme", MinLength: 8 + won, MaxLength: 64, Version: version + 1})
		}
	}},
}
