// This file holds NewID, the identifiers of records.

package store

import (
	"crypto/rand"
	"encoding/base64"
)

// NewID returns a random identifier (128 bits, base64url) suitable for the
// ID of any record: a tenant, a user, a sign-in.
func NewID() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
