// This file holds what an authenticated request carries in its context.

package pbxauth

import (
	"context"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// Principal is the authenticated caller of a request that passed
// [Auth.RequireBearer].
type Principal struct {
	UserID           string
	TenantID         string // empty for system users
	Username         string
	Role             string
	FamilyID         string // the sign-in the token belongs to
	PasswordVerified bool   // this sign-in proved the password
	Method           string // how the sign-in was made: "password", "microsoft", "passkey"
	// PasswordForceReset: the user must change the initial password.
	PasswordForceReset bool
	// SignedInAt is when the sign-in began (its password, if any, was
	// proved then); refreshes keep it.
	SignedInAt time.Time
}

type principalKey struct{}

// PrincipalFrom returns the caller of a request that passed RequireBearer.
func PrincipalFrom(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok
}

func principalOf(g store.Grant) Principal {
	return Principal{
		UserID:           g.User.ID,
		TenantID:         g.User.TenantID,
		Username:         g.User.Username,
		Role:             g.User.Role,
		FamilyID:         g.Family.ID,
		PasswordVerified: g.Family.PasswordVerified,
		Method:           g.Family.Method,

		PasswordForceReset: g.User.PasswordForceReset,
		SignedInAt:         g.Family.CreatedAt,
	}
}
