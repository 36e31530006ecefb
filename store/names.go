// This file holds the rules for names that every store enforces through the
// records' Validate methods: usernames, reserved names and domains.

package store

import "github.com/pbxauth/pbxauth/internal/asciifold"

// Limits of names on the wire.
const (
	maxUsername = 64
	maxDomain   = 280
)

// reservedNames are kept for system-level users (any case).
var reservedNames = []string{"admin", "system", "administrator", "root"}

// IsReservedName reports whether username is reserved for system users
// (admin, system, administrator, root; any case).
func IsReservedName(username string) bool {
	for _, n := range reservedNames {
		if asciifold.Equal(username, n) {
			return true
		}
	}
	return false
}

// ValidUsername reports whether s is a well-formed username: 1–64 ASCII
// letters, digits and _ - ' . , not starting or ending with a period.
func ValidUsername(s string) bool {
	if len(s) == 0 || len(s) > maxUsername || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '_', c == '-', c == '\'', c == '.':
		default:
			return false
		}
	}
	return true
}

// ValidDomain reports whether s can be a SIP domain: 1–280 printable,
// non-space ASCII characters (an FQDN or an IP address).
func ValidDomain(s string) bool {
	if len(s) == 0 || len(s) > maxDomain {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}
