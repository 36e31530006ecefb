// This file holds the rules every Store enforces on the records it is given,
// whoever calls it: a record that breaks them is refused with ErrInvalid and
// nothing is stored. They are the contract's own rules (identifiers,
// well-formed names); the rules that depend on an Auth's configuration
// (roles, the password policy) are the Go API's (admin.go).

package pbxauth

import (
	"errors"
	"fmt"
)

// ErrInvalid: a record given to a Store breaks the Store contract's rules
// (see [User.Validate] and its siblings), or an argument of a method of
// [Auth] breaks a rule of the API. The error's text says which.
var ErrInvalid = errors.New("pbxauth: invalid")

// invalidf returns an error wrapping ErrInvalid.
func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// maxRole is the spec's maxLength of a role.
const maxRole = 64

// Validate reports whether a Store may keep t: an ID and a well-formed
// domain (1–280 printable, non-space ASCII characters).
func (t Tenant) Validate() error {
	switch {
	case t.ID == "":
		return invalidf("tenant without an ID")
	case !validDomain(t.Domain):
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

// Validate reports whether a Store may keep f and tokens as a new sign-in:
// an ID, a user, a method and an end; tokens of a known kind, each of f.
func (f Family) Validate(tokens ...Token) error {
	switch {
	case f.ID == "":
		return invalidf("sign-in without an ID")
	case f.UserID == "":
		return invalidf("sign-in %q without a user", f.ID)
	case f.Method == "":
		return invalidf("sign-in %q without a method", f.ID)
	case f.ExpiresAt.IsZero():
		return invalidf("sign-in %q without an end", f.ID)
	}
	for _, t := range tokens {
		if t.FamilyID != f.ID {
			return invalidf("a token of sign-in %q names sign-in %q", f.ID, t.FamilyID)
		}
		if err := t.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// Validate reports whether a Store may keep t: an access or refresh token
// of a sign-in.
func (t Token) Validate() error {
	if t.Kind != AccessToken && t.Kind != RefreshToken {
		return invalidf("token of unknown kind %d", t.Kind)
	}
	if t.FamilyID == "" {
		return invalidf("token without a sign-in")
	}
	return nil
}

// Validate reports whether a Store may keep id: every part set.
func (id Identity) Validate() error {
	if id.TenantID == "" || id.Issuer == "" || id.Subject == "" || id.UserID == "" {
		return invalidf("identity link needs a tenant, an issuer, a subject and a user")
	}
	return nil
}
