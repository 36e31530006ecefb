// This file holds the field rules of the spec and DESIGN.md: usernames,
// domains, passwords, tokens. Each check returns an INVALID_ARGUMENT naming
// the field, so every handler words its refusals the same way.

package pbxauth

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/pbxauth/pbxauth/store"
)

// Limits of the wire format.
const (
	maxPasswordBytes = 1024 // refused before hashing (DESIGN: "Passwords")
	maxTokenBytes    = 512  // our tokens are 43 bytes; anything far longer is junk
	minNewPassword   = 8
	maxNewPassword   = store.MaxPasswordLength
)

// checkUsername validates a username field; tenant says whether it names a
// tenant user (reserved names are for system users only).
func checkUsername(s string, tenant bool) *apiError {
	if s == "" {
		return invalidArgument("username is required")
	}
	if !store.ValidUsername(s) {
		return invalidArgument("username must be 1-64 letters, digits, _ - ' or . and not start or end with .")
	}
	if tenant && store.IsReservedName(s) {
		return invalidArgument("username is reserved for system users")
	}
	return nil
}

// checkDomain validates an optional (required=false) or required domain field.
func checkDomain(s string, required bool) *apiError {
	if s == "" && !required {
		return nil
	}
	if s == "" {
		return invalidArgument("domain is required")
	}
	if !store.ValidDomain(s) {
		return invalidArgument("domain must be 1-280 printable characters")
	}
	return nil
}

// checkPasswordField validates a password as sent for checking: present and
// not absurdly long (hashing 1 MiB would be a denial of service).
func checkPasswordField(field, s string) *apiError {
	if s == "" {
		return invalidArgument(field + " is required")
	}
	if len(s) > maxPasswordBytes {
		return invalidArgument(field + " is too long")
	}
	return nil
}

// checkTokenField validates a token field: present and of sane length.
func checkTokenField(field, s string) *apiError {
	if s == "" {
		return invalidArgument(field + " is required")
	}
	if len(s) > maxTokenBytes {
		return invalidArgument(field + " is malformed")
	}
	return nil
}

// checkNewPassword applies the password rules of DESIGN.md to a new
// password of u, sent as field: pbxauth's own (checkOwnPasswordRules),
// then, for a tenant user, the tenant's password policy. Refusals name
// field, as the request spells it.
func (a *Auth) checkNewPassword(ctx context.Context, u store.User, field, password string) *apiError {
	if e := a.checkOwnPasswordRules(field, u.Username, password); e != nil {
		return e
	}
	refusal, err := a.tenantPolicyRefusal(ctx, u, field, password)
	if err != nil {
		return a.internal(ctx, "read password policy", err)
	}
	return refusal
}

// checkOwnPasswordRules applies pbxauth's own rules to a new password —
// Config.PasswordMinLength to 256 characters, not the username — then the
// host's own rule if it set one.
func (a *Auth) checkOwnPasswordRules(field, username, password string) *apiError {
	if e := checkPasswordField(field, password); e != nil {
		return e
	}
	n := utf8.RuneCountInString(normalizePassword(password))
	if n < a.cfg.PasswordMinLength || n > maxNewPassword {
		return invalidArgument(fmt.Sprintf("%s must be %d-%d characters", field, a.cfg.PasswordMinLength, maxNewPassword))
	}
	if strings.EqualFold(password, username) {
		return invalidArgument(field + " must not equal the username")
	}
	if a.cfg.PasswordPolicy != nil {
		if err := a.cfg.PasswordPolicy(username, password); err != nil {
			return invalidArgument(field + ": " + err.Error())
		}
	}
	return nil
}
