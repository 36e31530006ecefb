// This file checks the optional store.PasswordPolicyStore: a policy round
// trips whole, is kept per tenant, replaces the earlier one, and is refused
// for a tenant that does not exist or with lengths out of order.

package storetest

import "github.com/pbxauth/pbxauth/store"

// policyStore returns s as a PasswordPolicyStore, or skips the check.
func policyStore(t tb, s store.Store) store.PasswordPolicyStore {
	t.Helper()
	return optional[store.PasswordPolicyStore](t, s)
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
		got, err := ps.PasswordPolicy(ctx, "t-acme")
		wantErr(t, err, nil, "PasswordPolicy")
		equal(t, "the stored policy", got, strictPolicy("t-acme"))
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
			want := store.PasswordPolicy{TenantID: "t-globex", MinLength: 8 + i, MaxLength: 32 + i}
			set(&want)
			must(t, ps.PutPasswordPolicy(ctx, want), "PutPasswordPolicy replacing")
			got, _ := ps.PasswordPolicy(ctx, "t-globex")
			equal(t, "the replaced policy", got, want)
		}
		got, _ = ps.PasswordPolicy(ctx, "t-acme")
		equal(t, "the first tenant's policy after the other's changes", got, strictPolicy("t-acme"))
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
		got, _ := ps.PasswordPolicy(ctx, "t-acme")
		equal(t, "the policy after refused changes", got, strictPolicy("t-acme"))
	}},
}
