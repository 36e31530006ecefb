// Package hasher is pbxauth's password hashing: argon2id in PHC string
// form over NFKC-normalised passwords, run under a concurrency bound with
// two lanes (lanes.go) so that memory stays bounded and known devices keep
// signing in while hashing is saturated. It knows nothing of users, stores
// or HTTP.
package hasher

// This file holds the argon2id PHC strings: making, parsing, comparing.

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"
)

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

const (
	saltLen = 16
	keyLen  = 32
)

var b64 = base64.RawStdEncoding

// Normalize gives one byte string for the many ways a keyboard can type the
// same password (NFKC).
func Normalize(p string) string { return norm.NFKC.String(p) }

// Hash returns the argon2id PHC string of password with p, computed at once
// (no bound: callers that face clients use [Hasher.Hash]).
func Hash(password string, p Params) string {
	salt := make([]byte, saltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(Normalize(password)), salt, p.Time, p.Memory, p.Threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// phc is a parsed argon2id PHC string.
type phc struct {
	params    Params
	salt, key []byte
}

func parsePHC(s string) (phc, error) {
	var h phc
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return h, errors.New("hasher: not an argon2id PHC string")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return h, errors.New("hasher: unsupported argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &h.params.Memory, &h.params.Time, &h.params.Threads); err != nil {
		return h, errors.New("hasher: bad argon2 parameters")
	}
	if h.params.Memory == 0 || h.params.Time == 0 || h.params.Threads == 0 || h.params.Memory > 1<<22 {
		return h, errors.New("hasher: bad argon2 parameters")
	}
	var err error
	if h.salt, err = b64.DecodeString(parts[4]); err != nil {
		return h, err
	}
	if h.key, err = b64.DecodeString(parts[5]); err != nil || len(h.key) == 0 {
		return h, errors.New("hasher: bad argon2 hash")
	}
	return h, nil
}

// weaker reports whether p costs less than want in any dimension.
func (p Params) weaker(want Params) bool {
	return p.Memory < want.Memory || p.Time < want.Time || p.Threads < want.Threads
}

// matches computes password's key under h's salt and parameters and
// compares it with h's key in constant time.
func (h phc) matches(password string) bool {
	key := argon2.IDKey([]byte(Normalize(password)), h.salt, h.params.Time, h.params.Memory, h.params.Threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(key, h.key) == 1
}
