// Package pkce checks S256 code challenges and verifiers in the form of
// RFC 7636: a challenge is the unpadded base64url SHA-256 of a verifier of
// 43 to 128 unreserved characters.
package pkce

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// ValidChallenge reports whether c is an S256 challenge: 43 base64url
// characters that decode to 32 bytes.
func ValidChallenge(c string) bool {
	if len(c) != 43 {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(c)
	return err == nil && len(b) == sha256.Size
}

// ValidVerifier reports whether v is 43–128 characters of [A-Za-z0-9-._~].
func ValidVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}

// Matches reports, in constant time, whether verifier v hashes to challenge c.
func Matches(c, v string) bool {
	sum := sha256.Sum256([]byte(v))
	return subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(c)) == 1
}
