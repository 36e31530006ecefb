// Package grace derives the token pair of a refresh rotation from the
// presented refresh token and a random seed, so that a retried refresh
// (whose answer was lost) can be answered with the same pair again while
// the store keeps no token: only the seed, for as long as a retry is
// allowed. The tokens are
//
//	base64url(HMAC-SHA-256(key = presented token, "pbxauth/grace/v1" ‖ kind ‖ family ID ‖ r))
//
// with kind one byte, and r the 32-byte seed. The label and kind have a
// fixed size and r ends the message, so the family ID between them cannot
// be confused with its neighbours.
package grace

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// label names the derivation and its version.
const label = "pbxauth/grace/v1"

// NewSeed returns 256 random bits.
func NewSeed() [32]byte {
	var r [32]byte
	rand.Read(r[:])
	return r
}

// Token returns the token of the given kind that the rotation of presented
// in family issues under seed r: 43 base64url characters, like every
// other token.
func Token(presented string, kind byte, familyID string, r [32]byte) string {
	m := hmac.New(sha256.New, []byte(presented))
	m.Write([]byte(label))
	m.Write([]byte{kind})
	m.Write([]byte(familyID))
	m.Write(r[:])
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
