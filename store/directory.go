// This file holds the directory: the system settings, tenants and users,
// their records and the rules a store enforces on them.

package store

import (
	"context"
	"time"
)

// System holds the system-wide settings. The JSON names are those of GET
// /info, which serves every field but EnableTwoFactor.
type System struct {
	WebDomain          string `json:"web_domain"`
	PrivateIPv4        string `json:"private_ipv4"`
	PublicIPv4         string `json:"public_ipv4"`
	EnableIPv6         bool   `json:"enable_ipv6"`
	PrivateIPv6        string `json:"private_ipv6"`
	PublicIPv6         string `json:"public_ipv6"`
	PrimaryDNSServer   string `json:"primary_dns_server"`
	SecondaryDNSServer string `json:"secondary_dns_server"`
	// EnableTwoFactor requires the email second factor of every system user.
	EnableTwoFactor bool `json:"-"`
}

// Tenant is one PBX tenant, found by its SIP domain.
type Tenant struct {
	ID        string
	Name      string
	Domain    string // unique, matched case-insensitively
	Website   string
	AvatarURL string
	// EnableTwoFactor requires the email second factor of every user of the tenant.
	EnableTwoFactor bool
	// PasskeyNotTwoFactor is the tenant setting passkey_satisfies_two_factor
	// false: a passkey sign-in of a user who needs a second factor asks for
	// another factor. The zero value, a passkey with user verification
	// counting as two factors, is the default.
	PasskeyNotTwoFactor bool
	// MS365 holds the Microsoft Entra ID settings; nil when not configured.
	MS365 *MS365
}

// User is an account. System users have an empty TenantID.
type User struct {
	ID                 string
	TenantID           string
	Username           string // unique within a tenant, matched case-insensitively
	Email              string
	Role               string
	PasswordHash       string // argon2id PHC string; empty means no password sign-in
	TwoFactorEnabled   bool
	PasswordForceReset bool
	Disabled           bool
	// Epoch is the user's sign-in epoch, which only the store moves: it
	// advances, in the same step, whenever the user's sign-ins are ended as
	// a whole or the password changes (ResetPassword, RevokeUser,
	// RevokeOtherFamilies, RevokeMethodFamilies, SetUserDisabled(true), an
	// UpdateUser that changes PasswordHash or disables). Whatever proves a credential reads
	// it before the check, and the sign-in or flow it then starts carries
	// it (Family.Epoch, Flow.Epoch): the store refuses it with ErrStale
	// when the epoch moved in between. CreateUser stores the given value;
	// UpdateUser never sets it.
	Epoch int64
}

// DirectoryStore keeps the system settings, the tenants and the users. It
// is part of [Store].
type DirectoryStore interface {
	// System returns the system settings, or the zero System and a nil
	// error when none were stored.
	System(ctx context.Context) (System, error)
	// PutSystem replaces the system settings.
	PutSystem(ctx context.Context, s System) error

	// CreateTenant adds a tenant; ErrConflict when its ID or its domain
	// (case-insensitively) is taken.
	CreateTenant(ctx context.Context, t Tenant) error
	// UpdateTenant replaces the tenant with t.ID; ErrNotFound when there is
	// none, ErrConflict when the new domain is another tenant's.
	UpdateTenant(ctx context.Context, t Tenant) error
	// Tenant returns the tenant with the given ID, or ErrNotFound.
	Tenant(ctx context.Context, id string) (Tenant, error)
	// TenantByDomain finds a tenant by domain, case-insensitively, or ErrNotFound.
	TenantByDomain(ctx context.Context, domain string) (Tenant, error)

	// CreateUser adds a user; ErrConflict when its ID, or its username
	// within its tenant (case-insensitively), is taken.
	CreateUser(ctx context.Context, u User) error
	// UpdateUser replaces the user with u.ID, all but its Epoch, which
	// advances when the update changes PasswordHash or sets Disabled;
	// ErrNotFound when there is none, ErrConflict when the new username is
	// taken in the tenant.
	UpdateUser(ctx context.Context, u User) error
	// User returns the user with the given ID, or ErrNotFound.
	User(ctx context.Context, id string) (User, error)
	// UserByName finds a user of a tenant ("" for system users) by
	// username, case-insensitively, or ErrNotFound.
	UserByName(ctx context.Context, tenantID, username string) (User, error)
	// UsersByEmail lists the users of a tenant whose email equals email,
	// case-insensitively; an empty slice and nil error when none. Users
	// without an email never match.
	UsersByEmail(ctx context.Context, tenantID, email string) ([]User, error)
	// SwapPasswordHash sets the user's password hash to newHash only if it
	// is still oldHash (an upgrade of hashing parameters must not undo a
	// concurrent password change); ErrConflict if it changed, ErrNotFound
	// for an unknown user.
	SwapPasswordHash(ctx context.Context, userID, oldHash, newHash string) error
	// ResetPassword sets the password hash, sets PasswordForceReset to
	// forceReset (true: the user must choose a new password at the next
	// sign-in), advances the user's Epoch, revokes every token family of
	// the user and deletes every known device of the user, in one step;
	// ErrNotFound for an unknown user, with nothing changed.
	ResetPassword(ctx context.Context, userID, newHash string, forceReset bool) error
	// ChangePassword is a user's change of their own password, made
	// through the sign-in keep: only while the user's Epoch still equals
	// epoch (read before the old password was checked) and keep is a live
	// family of the user at now, it sets the password hash, clears
	// PasswordForceReset, advances the Epoch, revokes every other live
	// family of the user, carries keep over to the new epoch (its Epoch
	// becomes the user's) and deletes every known device of the user but
	// the one keep was made through (Family.DeviceID; when that is "",
	// every device), in one step, atomically also across processes. It returns the IDs it revoked (empty when none).
	// keep "" is a change made with no sign-in to carry over (Auth's
	// ChangePassword, called by a host): only the epoch is compared, and
	// every live family of the user is revoked and every known device
	// deleted.
	// ErrStale when the epoch moved or keep (not "") is not live, with
	// nothing changed; ErrNotFound for an unknown user.
	ChangePassword(ctx context.Context, userID string, epoch int64, keep, newHash string, now time.Time) ([]string, error)
}

// maxRole is the spec's maxLength of a role.
const maxRole = 64

// Validate reports whether a Store may keep t: an ID and a well-formed
// domain (1–280 printable, non-space ASCII characters).
func (t Tenant) Validate() error {
	switch {
	case t.ID == "":
		return invalidf("tenant without an ID")
	case !ValidDomain(t.Domain):
		return invalidf("tenant %q: domain must be 1-280 printable characters", t.ID)
	}
	return nil
}

// Validate reports whether a Store may keep u: an ID, a well-formed
// username ([ValidUsername]) that is not reserved for system users when u
// belongs to a tenant ([IsReservedName]), and a role of 1–64 bytes. The
// store also refuses a user whose TenantID names no tenant.
func (u User) Validate() error {
	switch {
	case u.ID == "":
		return invalidf("user without an ID")
	case !ValidUsername(u.Username):
		return invalidf("user %q: username must be 1-64 letters, digits, _ - ' or . and not start or end with .", u.ID)
	case u.TenantID != "" && IsReservedName(u.Username):
		return invalidf("user %q: username %q is reserved for system users", u.ID, u.Username)
	case u.Role == "" || len(u.Role) > maxRole:
		return invalidf("user %q: role must be 1-64 bytes", u.ID)
	}
	return nil
}
