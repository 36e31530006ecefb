// This file holds the password parameters and HashPassword; the hashing
// itself — argon2id in PHC form, NFKC normalisation, the bound with its
// lanes — is internal/hasher. Every hash a request causes goes through the
// Auth's bounded Hasher.

package pbxauth

import (
	"github.com/pbxauth/pbxauth/internal/hasher"
)

// Argon2Params are the argon2id cost parameters. The zero value means the
// OWASP defaults: 19456 KiB memory, 2 iterations, 1 lane.
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// DefaultArgon2 are the parameters used when Config.Argon2 is zero.
var DefaultArgon2 = Argon2Params{Memory: 19456, Time: 2, Threads: 1}

// normalizePassword gives one byte string for the many ways a keyboard can
// type the same password (NFKC).
func normalizePassword(p string) string { return hasher.Normalize(p) }

// lane says which hashing lane a piece of work takes: the favoured one,
// keyed by its user, for a sign-in through a known device; the ordinary
// one (key "") for everything else.
type lane struct {
	lane hasher.Lane
	key  string
}

var ordinaryLane = lane{lane: hasher.Ordinary}
