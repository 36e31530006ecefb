// This file holds the optional Store capability of Microsoft bindings and
// sign-in rules: an administrator's binding of a tenant user to one
// Microsoft account (PortSIP's addUserMs365Binding), and a tenant's rules
// of who may sign in with Microsoft as administrator or standard user
// (part of PortSIP's Microsoft 365 settings).

package store

import (
	"context"
	"strings"
)

// Prefixes of a MicrosoftBinding's Key: the account's object ID, or its
// user principal name (UPN).
const (
	BindingOID = "oid:"
	BindingUPN = "upn:"
)

// MicrosoftBinding binds a tenant user to a Microsoft account of the
// tenant's directory, which then signs in as that user with no email
// match: an administrator vouched for it.
type MicrosoftBinding struct {
	TenantID string
	UserID   string
	// Key names the account: BindingOID + the object ID, or BindingUPN +
	// the UPN, each folded to lower case ASCII by the caller. A key is
	// bound to at most one user per tenant; stores compare it byte by
	// byte.
	Key string
}

// Validate reports whether a Store may keep b: every part set, and a key
// of a known kind with a value.
func (b MicrosoftBinding) Validate() error {
	switch {
	case b.TenantID == "" || b.UserID == "":
		return invalidf("Microsoft binding needs a tenant and a user")
	case !(strings.HasPrefix(b.Key, BindingOID) && len(b.Key) > len(BindingOID)) &&
		!(strings.HasPrefix(b.Key, BindingUPN) && len(b.Key) > len(BindingUPN)):
		return invalidf("Microsoft binding key %q is neither %q nor %q and a value", b.Key, BindingOID, BindingUPN)
	}
	return nil
}

// Selections of a MicrosoftRule: which accounts of the directory it
// admits.
const (
	SelectAll     = "ALL"     // every account
	SelectInclude = "INCLUDE" // only the accounts listed
	SelectExclude = "EXCLUDE" // every account but those listed
)

// MicrosoftRule is one of a tenant's Microsoft sign-in rules.
type MicrosoftRule struct {
	Enabled bool
	// SyncType is SelectAll, SelectInclude or SelectExclude.
	SyncType string
	// SelectedUsers are object IDs or UPNs, as the administrator gave
	// them; stores return an empty selection as nil.
	SelectedUsers []string
}

// MicrosoftRules are a tenant's rules of who may sign in with Microsoft:
// Administrator for users with the role Admin, StandardUser for every
// other role.
type MicrosoftRules struct {
	TenantID      string
	Administrator MicrosoftRule
	StandardUser  MicrosoftRule
	// Version is the Store's count of the tenant's stored rules: 0 when
	// none are stored. PutMicrosoftRules stores r only while the stored
	// version equals r.Version, and stores it as r.Version+1.
	Version int64
}

// Validate reports whether a Store may keep r: a tenant ID, a known
// selection in each rule, and no empty selected user.
func (r MicrosoftRules) Validate() error {
	if r.TenantID == "" {
		return invalidf("Microsoft rules without a tenant ID")
	}
	if r.Version < 0 {
		return invalidf("Microsoft rules of tenant %q: negative version", r.TenantID)
	}
	for _, rule := range []MicrosoftRule{r.Administrator, r.StandardUser} {
		switch rule.SyncType {
		case SelectAll, SelectInclude, SelectExclude:
		default:
			return invalidf("Microsoft rules of tenant %q: sync_type %q", r.TenantID, rule.SyncType)
		}
		for _, u := range rule.SelectedUsers {
			if u == "" {
				return invalidf("Microsoft rules of tenant %q: an empty selected user", r.TenantID)
			}
		}
	}
	return nil
}

// MicrosoftReset is what ResetMicrosoft removed of a tenant.
type MicrosoftReset struct {
	// UserIDs are the users who had a link or a binding, each once, in no
	// particular order.
	UserIDs []string
	// Links and Bindings count what was removed.
	Links, Bindings int
}

// MicrosoftBindingStore is implemented by stores that keep Microsoft
// bindings and sign-in rules; every shipped store does. Without it,
// binding answers 404 and every tenant has the default rules (every
// Microsoft sign-in admitted). All methods must be safe for concurrent
// use, also by several processes sharing one backend.
type MicrosoftBindingStore interface {
	// BindMicrosoft makes b the one binding of the user b.UserID, in one
	// atomic step: the user's earlier binding and every link of the user
	// in the tenant ([IdentityStore]) go. ErrConflict, with nothing
	// changed, when another user holds the key in the tenant — a binding
	// of b.Key, or a link whose subject is b.Key (links of Entra accounts
	// are keyed "oid:" + object ID) — so of concurrent bindings of one key
	// to different users exactly one wins, also across processes.
	// ErrNotFound, with nothing changed, when no user of the tenant has
	// that ID; ErrInvalid for a binding its Validate refuses.
	BindMicrosoft(ctx context.Context, b MicrosoftBinding) error
	// LinkUnbound is [IdentityStore.LinkIdentity] for a link made by
	// matching an email: it stores id only while the user has no binding
	// in the tenant, decided in one atomic step with the insert, and is
	// ErrStale, with nothing stored, otherwise — so a link never outlives
	// a binding made concurrently (the binding removes it, or it sees the
	// binding). Its other errors are LinkIdentity's.
	LinkUnbound(ctx context.Context, id Identity) error
	// UnbindMicrosoft removes the user's binding and every link of the
	// user in the tenant, in one step, and reports whether there was a
	// binding. A user with neither is not an error.
	UnbindMicrosoft(ctx context.Context, tenantID, userID string) (bool, error)
	// MicrosoftBinding returns the binding of key in the tenant, or
	// ErrNotFound.
	MicrosoftBinding(ctx context.Context, tenantID, key string) (MicrosoftBinding, error)
	// UserMicrosoftBinding returns the binding of the user in the tenant,
	// or ErrNotFound.
	UserMicrosoftBinding(ctx context.Context, tenantID, userID string) (MicrosoftBinding, error)
	// ResetMicrosoft removes every link and every binding of the tenant in
	// one step (its directory changed: they named accounts of the old one)
	// and returns what it removed.
	ResetMicrosoft(ctx context.Context, tenantID string) (MicrosoftReset, error)
	// MicrosoftRules returns the stored rules of the tenant, or
	// ErrNotFound when none were stored (the tenant then has the
	// default: both rules enabled, selecting every account).
	MicrosoftRules(ctx context.Context, tenantID string) (MicrosoftRules, error)
	// PutMicrosoftRules stores r as the rules of the tenant r.TenantID with
	// Version r.Version+1, replacing the earlier ones whole — only while
	// the stored Version equals r.Version (0: none are stored), compared
	// and written in one atomic step, also across processes: ErrConflict
	// otherwise, with nothing stored. ErrInvalid for rules their Validate
	// refuses; ErrNotFound when no tenant has that ID.
	PutMicrosoftRules(ctx context.Context, r MicrosoftRules) error
}
