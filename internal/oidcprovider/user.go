package oidcprovider

// The signed-in account and the claims it puts in ID tokens and UserInfo answers.

import (
	"maps"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// User is an account the provider signs in, with the claims it puts in ID
// tokens and UserInfo answers.
type User struct {
	Subject           string
	Email             string
	EmailVerified     *bool // nil: claim absent
	EmailInIDToken    bool  // true: email, email_verified and preferred_username also in the ID token; false: only at UserInfo (zitadel's default for the code flow)
	PreferredUsername string
	// IDTokenClaims are extra ID token claims such as "oid", "acct", "xms_edov".
	// They cannot replace a claim zitadel sets itself (iss, sub, aud, nonce, ...).
	IDTokenClaims   map[string]any
	UserInfoSubject string // when set, UserInfo answers this sub instead of Subject (to test a mismatch)
}

// clone copies u so that a caller changing its map afterwards does not reach
// a sign-in already made.
func (u User) clone() *User {
	u.IDTokenClaims = maps.Clone(u.IDTokenClaims)
	if u.EmailVerified != nil {
		v := *u.EmailVerified
		u.EmailVerified = &v
	}
	return &u
}

// setScopedClaims sets the claims the email and profile scopes grant. They go
// in as extra claims because zitadel's email_verified field drops false, and
// an unverified email must be said to be one.
func (u *User) setScopedClaims(info *oidc.UserInfo, scopes []string) {
	if slices.Contains(scopes, oidc.ScopeEmail) {
		if u.Email != "" {
			info.AppendClaims("email", u.Email)
		}
		if u.EmailVerified != nil {
			info.AppendClaims("email_verified", *u.EmailVerified)
		}
	}
	if slices.Contains(scopes, oidc.ScopeProfile) && u.PreferredUsername != "" {
		info.AppendClaims("preferred_username", u.PreferredUsername)
	}
}
