// This file applies, at the Microsoft callback, what administrators set
// ("More of PortSIP v22"): bindings of users to accounts
// (ms365binding.go), which an account with no link yet matches before any
// email, and the tenant's sign-in rules (ms365settings.go), which decide
// whether the user an account maps to may sign in with Microsoft at all.
// Both trust only what the verified ID token of the tenant's own directory
// says (its oid; its preferred_username for a member, acct 0), never
// UserInfo.

package pbxauth

import (
	"context"
	"errors"
	"slices"

	"github.com/pbxauth/pbxauth/internal/asciifold"
	"github.com/pbxauth/pbxauth/store"
)

// bindingKeys are the binding keys the account may be bound by: its object
// ID, and its UPN when it is a member of the directory; none for an account
// of another directory.
func (m msAccount) bindingKeys() []string {
	if !m.entra {
		return nil
	}
	keys := []string{store.BindingOID + asciifold.Lower(m.oid)}
	if m.member && m.upn != "" {
		keys = append(keys, store.BindingUPN+asciifold.Lower(m.upn))
	}
	return keys
}

// boundUser returns the user of tenant t that an administrator bound the
// account to (by object ID first), or a zero User when none is.
func (a *Auth) boundUser(ctx context.Context, t store.Tenant, acct msAccount) (store.User, *msFailure) {
	bs := a.bindingStore()
	if bs == nil {
		return store.User{}, nil
	}
	for _, key := range acct.bindingKeys() {
		b, err := bs.MicrosoftBinding(ctx, t.ID, key)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return store.User{}, serverError(store.User{}, "read Microsoft binding", err)
		}
		u, err := a.store().User(ctx, b.UserID)
		if errors.Is(err, store.ErrNotFound) {
			return store.User{}, denied("account is bound to a deleted user")
		}
		if err != nil {
			return store.User{}, serverError(store.User{}, "read bound user", err)
		}
		return u, nil
	}
	return store.User{}, nil
}

// withoutBinding returns the users of found that have no binding: email
// matching never picks a user bound to an account.
func (a *Auth) withoutBinding(ctx context.Context, t store.Tenant, found []store.User) ([]store.User, *msFailure) {
	bs := a.bindingStore()
	if bs == nil {
		return found, nil
	}
	var free []store.User
	for _, u := range found {
		_, err := bs.UserMicrosoftBinding(ctx, t.ID, u.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			free = append(free, u)
		case err != nil:
			return nil, serverError(u, "read Microsoft binding", err)
		}
	}
	return free, nil
}

// rulesOf returns the tenant's Microsoft sign-in rules: the stored ones,
// else the default — both enabled, selecting every account — which is how
// every tenant behaved before rules existed.
func (a *Auth) rulesOf(ctx context.Context, tenantID string) (store.MicrosoftRules, error) {
	open := store.MicrosoftRule{Enabled: true, SyncType: store.SelectAll}
	def := store.MicrosoftRules{TenantID: tenantID, Administrator: open, StandardUser: open}
	bs := a.bindingStore()
	if bs == nil {
		return def, nil
	}
	r, err := bs.MicrosoftRules(ctx, tenantID)
	if errors.Is(err, store.ErrNotFound) {
		return def, nil
	}
	return r, err
}

// checkMicrosoftRules refuses u's Microsoft sign-in unless the rule of u's
// role is enabled and its selection admits the account.
func (a *Auth) checkMicrosoftRules(ctx context.Context, t store.Tenant, acct msAccount, u store.User) *msFailure {
	r, err := a.rulesOf(ctx, t.ID)
	if err != nil {
		return serverError(u, "read Microsoft sign-in rules", err)
	}
	rule := r.StandardUser
	if u.Role == RoleAdmin {
		rule = r.Administrator
	}
	if !ruleAdmits(rule, acct) {
		f := denied(ReasonMicrosoftRule)
		f.user = u
		return f
	}
	return nil
}

// ruleAdmits reports whether rule lets the account sign in: it must be
// enabled; ALL admits every account, INCLUDE only those listed, EXCLUDE
// all but those listed. An entry is listed as a binding matches it: by
// object ID, or by UPN for a member, from the tenant's directory only.
func ruleAdmits(rule store.MicrosoftRule, acct msAccount) bool {
	if !rule.Enabled {
		return false
	}
	if rule.SyncType == store.SelectAll {
		return true
	}
	keys := acct.bindingKeys()
	listed := slices.ContainsFunc(rule.SelectedUsers, func(sel string) bool { return slices.Contains(keys, bindingKey(sel)) })
	return listed == (rule.SyncType == store.SelectInclude)
}
