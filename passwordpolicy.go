// This file is the tenant password policy ("More of PortSIP v22"):
// GET and POST /tenant/password_policy, their Go API counterparts, and the
// check every new password of a tenant's users passes.

package pbxauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/pbxauth/pbxauth/internal/pwpolicy"
	"github.com/pbxauth/pbxauth/store"
)

// EventPasswordPolicyChanged reports a changed tenant password policy;
// UserID is the acting principal ("" for the Go API).
const EventPasswordPolicyChanged EventKind = "password_policy_changed"

// PortSIP's limits of min_length; max_length may go up to 256 in pbxauth.
const (
	policyLowest     = 6
	policyMinLongest = 32
)

// TenantPasswordPolicy is a tenant's password policy as pbxauth applies
// it, PortSIP's object (retrieveTenantPasswordPolicy).
type TenantPasswordPolicy struct {
	MinLength                   int  `json:"min_length"`
	MaxLength                   int  `json:"max_length"`
	ContainsLetters             bool `json:"contains_letters"`
	ContainsNumbers             bool `json:"contains_numbers"`
	ContainsSpecialLetters      bool `json:"contains_special_letters"`
	DisableSequentialCharacters bool `json:"disable_sequential_characters"`
	DisableRepeatingCharacters  bool `json:"disable_repeating_characters"`
	DisableAccountInformation   bool `json:"disable_account_information"`
}

// PasswordPolicyChange is a change of a tenant's password policy, the body
// of updateTenantPasswordPolicy: a nil member keeps its current value.
type PasswordPolicyChange struct {
	MinLength                   *int  `json:"min_length"`
	MaxLength                   *int  `json:"max_length"`
	ContainsLetters             *bool `json:"contains_letters"`
	ContainsNumbers             *bool `json:"contains_numbers"`
	ContainsSpecialLetters      *bool `json:"contains_special_letters"`
	DisableSequentialCharacters *bool `json:"disable_sequential_characters"`
	DisableRepeatingCharacters  *bool `json:"disable_repeating_characters"`
	DisableAccountInformation   *bool `json:"disable_account_information"`
}

// errNoPolicies answers a change of policy on a store that keeps none.
var errNoPolicies = fmt.Errorf("%w: the store keeps no password policies", store.ErrNotFound)

// policyStore is the Store's PasswordPolicyStore, or nil.
func (a *Auth) policyStore() store.PasswordPolicyStore {
	ps, _ := a.cfg.Store.(store.PasswordPolicyStore) // not a.store(): its timing wrapper has no optional capability
	return ps
}

// policyOf returns the policy the tenant's new passwords pass: the stored
// one, or the default (every rule off) without one; min_length is at least
// Config.PasswordMinLength and max_length at least min_length.
func (a *Auth) policyOf(ctx context.Context, tenantID string) (store.PasswordPolicy, error) {
	p := store.PasswordPolicy{TenantID: tenantID, MaxLength: maxNewPassword}
	if ps := a.policyStore(); ps != nil {
		got, err := ps.PasswordPolicy(ctx, tenantID)
		switch {
		case err == nil:
			p = got
		case !errors.Is(err, store.ErrNotFound):
			return p, err
		}
	}
	p.MinLength = max(p.MinLength, a.cfg.PasswordMinLength)
	p.MaxLength = max(p.MaxLength, p.MinLength)
	return p, nil
}

// tenantPolicyRefusal applies the policy of u's tenant to a new password
// of u (system users have none): the refusal, naming the rule broken, or
// the Store's failure to read the policy.
func (a *Auth) tenantPolicyRefusal(ctx context.Context, u store.User, field, password string) (*apiError, error) {
	if u.TenantID == "" {
		return nil, nil
	}
	p, err := a.policyOf(ctx, u.TenantID)
	if err != nil {
		return nil, err
	}
	acct := pwpolicy.Account{Username: u.Username, Email: u.Email}
	if p.DisableAccountInformation {
		t, err := a.store().Tenant(ctx, u.TenantID)
		if err != nil {
			return nil, err
		}
		acct.Domain = t.Domain
	}
	rules := pwpolicy.Policy{MinLength: p.MinLength, MaxLength: p.MaxLength,
		Letters: p.ContainsLetters, Numbers: p.ContainsNumbers, Special: p.ContainsSpecialLetters,
		NoSequential: p.DisableSequentialCharacters, NoRepeating: p.DisableRepeatingCharacters, NoAccount: p.DisableAccountInformation}
	if v := pwpolicy.Check(rules, password, acct); v != nil {
		return invalidArgument(field + " does not pass the tenant's password policy (" + v.Rule + "): it " + v.Reason), nil
	}
	return nil, nil
}

// newPasswordError is checkNewPassword for the Go API: a refusal wraps
// ErrInvalid and names field, a Store failure is returned as it is.
// tenantPolicy false applies pbxauth's own rules only
// (NewUser.SkipTenantPolicy).
func (a *Auth) newPasswordError(ctx context.Context, u store.User, field, password string, tenantPolicy bool) error {
	if err := apiErr(a.checkOwnPasswordRules(field, u.Username, password)); err != nil || !tenantPolicy {
		return err
	}
	refusal, err := a.tenantPolicyRefusal(ctx, u, field, password)
	if err != nil {
		return err
	}
	return apiErr(refusal)
}

// wirePolicy is p as PortSIP's object.
func wirePolicy(p store.PasswordPolicy) TenantPasswordPolicy {
	return TenantPasswordPolicy{MinLength: p.MinLength, MaxLength: p.MaxLength,
		ContainsLetters: p.ContainsLetters, ContainsNumbers: p.ContainsNumbers, ContainsSpecialLetters: p.ContainsSpecialLetters,
		DisableSequentialCharacters: p.DisableSequentialCharacters, DisableRepeatingCharacters: p.DisableRepeatingCharacters,
		DisableAccountInformation: p.DisableAccountInformation}
}

// merged is p with the members c sets, checked: min_length from
// Config.PasswordMinLength to 32 (400 naming the floor below it),
// max_length from 6 to 256, min_length not above max_length.
func (a *Auth) merged(p store.PasswordPolicy, c PasswordPolicyChange) (store.PasswordPolicy, error) {
	set := func(dst *bool, src *bool) {
		if src != nil {
			*dst = *src
		}
	}
	set(&p.ContainsLetters, c.ContainsLetters)
	set(&p.ContainsNumbers, c.ContainsNumbers)
	set(&p.ContainsSpecialLetters, c.ContainsSpecialLetters)
	set(&p.DisableSequentialCharacters, c.DisableSequentialCharacters)
	set(&p.DisableRepeatingCharacters, c.DisableRepeatingCharacters)
	set(&p.DisableAccountInformation, c.DisableAccountInformation)
	if c.MinLength != nil {
		switch p.MinLength = *c.MinLength; {
		case p.MinLength < a.cfg.PasswordMinLength:
			return p, invalidf("min_length must be at least %d, this server's floor", a.cfg.PasswordMinLength)
		case p.MinLength > policyMinLongest:
			return p, invalidf("min_length must be at most %d", policyMinLongest)
		}
	}
	if c.MaxLength != nil {
		if p.MaxLength = *c.MaxLength; p.MaxLength < policyLowest || p.MaxLength > maxNewPassword {
			return p, invalidf("max_length must be %d-%d", policyLowest, maxNewPassword)
		}
	}
	if p.MinLength > p.MaxLength {
		return p, invalidf("min_length (%d) must not be greater than max_length (%d)", p.MinLength, p.MaxLength)
	}
	return p, nil
}

// updatePolicy merges c into the tenant's policy and stores the result over
// the version it read, merging again into a policy changed meanwhile.
func (a *Auth) updatePolicy(ctx context.Context, tenantID string, c PasswordPolicyChange, actor string) (TenantPasswordPolicy, error) {
	ps := a.policyStore()
	if ps == nil {
		return TenantPasswordPolicy{}, errNoPolicies
	}
	p, err := mergeVersioned("the password policy",
		func() (store.PasswordPolicy, error) { return a.policyOf(ctx, tenantID) },
		func(cur store.PasswordPolicy) (store.PasswordPolicy, error) { return a.merged(cur, c) },
		func(p store.PasswordPolicy) error { return ps.PutPasswordPolicy(ctx, p) })
	if err != nil {
		return TenantPasswordPolicy{}, err
	}
	a.emit(ctx, Event{Kind: EventPasswordPolicyChanged, UserID: actor, TenantID: tenantID})
	return wirePolicy(p), nil
}

// PasswordPolicy returns the password policy of the tenant of domain, as
// GET /tenant/password_policy answers it. ErrInvalid for an unknown or
// malformed domain (system users have pbxauth's own rules only).
func (a *Auth) PasswordPolicy(ctx context.Context, domain string) (TenantPasswordPolicy, error) {
	tenantID, err := a.policyTenant(ctx, domain)
	if err != nil {
		return TenantPasswordPolicy{}, err
	}
	p, err := a.policyOf(ctx, tenantID)
	return wirePolicy(p), err
}

// SetPasswordPolicy changes the password policy of the tenant of domain as
// POST /tenant/password_policy does (a merge: a nil member keeps its
// value), reports EventPasswordPolicyChanged and returns the new policy.
// ErrInvalid for an unknown domain or a policy the rules refuse (the text
// says which), with nothing changed; ErrNotFound when the Store keeps no
// policies; ErrConflict when concurrent changes kept overtaking it. Stored
// passwords stay valid; the policy judges new ones.
func (a *Auth) SetPasswordPolicy(ctx context.Context, domain string, c PasswordPolicyChange) (TenantPasswordPolicy, error) {
	tenantID, err := a.policyTenant(ctx, domain)
	if err != nil {
		return TenantPasswordPolicy{}, err
	}
	return a.updatePolicy(ctx, tenantID, c, "")
}

// policyTenant is the ID of the tenant of domain, which must be given.
func (a *Auth) policyTenant(ctx context.Context, domain string) (string, error) {
	if domain == "" {
		return "", invalidf("domain is required: system users have no password policy")
	}
	return a.tenantOf(ctx, domain)
}

// retrieveTenantPasswordPolicy serves GET /tenant/password_policy.
func (a *Auth) retrieveTenantPasswordPolicy(w http.ResponseWriter, r *http.Request) *apiError {
	ctx := r.Context()
	p, _ := PrincipalFrom(ctx)
	t, e := a.scopedTenant(r, p)
	if e != nil {
		return e
	}
	pol, err := a.policyOf(ctx, t.ID)
	if err != nil {
		return a.internal(ctx, "read password policy", err)
	}
	writeJSON(w, http.StatusOK, wirePolicy(pol))
	return nil
}

// updateTenantPasswordPolicy serves POST /tenant/password_policy.
func (a *Auth) updateTenantPasswordPolicy(w http.ResponseWriter, r *http.Request) *apiError {
	p, t, e := a.changingTenant(w, r)
	if e != nil {
		return e
	}
	var c PasswordPolicyChange
	if e := decodeJSON(w, r, &c); e != nil {
		return e
	}
	_, err := a.updatePolicy(r.Context(), t.ID, c, p.UserID)
	if e := a.changeAnswer(r, "update password policy", err); e != nil {
		return e
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
