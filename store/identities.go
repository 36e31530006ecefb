// This file holds links between external accounts (Microsoft sign-in) and
// users, and the IdentityStore capability that keeps them.

package store

import "context"

// Identity links an external account, known by its issuer and subject, to a
// user of one tenant. Links are per tenant: one directory may serve several
// tenants, and the same account may be linked in each.
type Identity struct {
	TenantID string
	Issuer   string
	Subject  string
	UserID   string
}

// IdentityStore keeps the links of external accounts to users. It is part
// of [Store].
type IdentityStore interface {
	// UnlinkUser removes every link of the user in the tenant; a user
	// without links is not an error.
	UnlinkUser(ctx context.Context, tenantID, userID string) error
	// LinkIdentity remembers that the external account (id.Issuer,
	// id.Subject) is the user id.UserID in the tenant id.TenantID.
	// ErrConflict when that account is linked in that tenant already, or
	// when the user has a link in that tenant already (to any account):
	// both are unique keys, so of two accounts racing to link one user
	// exactly one wins.
	LinkIdentity(ctx context.Context, id Identity) error
	// IdentityUser returns the user ID linked to (issuer, subject) in the
	// tenant, or ErrNotFound.
	IdentityUser(ctx context.Context, tenantID, issuer, subject string) (string, error)
	// RekeyIdentity gives the link of the account (id.TenantID, id.Issuer,
	// from) to the user id.UserID the subject id.Subject, in one atomic
	// step: the user keeps its one link in the tenant throughout, and no
	// other account can link the user meanwhile. ErrNotFound when there is
	// no such link to that user (also when another call rekeyed it first);
	// ErrConflict when the account id.Subject is linked in that tenant
	// already, and then nothing changes. Rekeying a link to its own subject
	// changes nothing. ErrInvalid when id breaks LinkIdentity's rules or
	// from is empty.
	RekeyIdentity(ctx context.Context, id Identity, from string) error
}

// Validate reports whether a Store may keep id: every part set.
func (id Identity) Validate() error {
	if id.TenantID == "" || id.Issuer == "" || id.Subject == "" || id.UserID == "" {
		return invalidf("identity link needs a tenant, an issuer, a subject and a user")
	}
	return nil
}
