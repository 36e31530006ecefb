// Package recoverycode makes and checks recovery codes: 10 characters of
// Crockford's base32 (50 random bits), shown once and kept only as
// HMAC-SHA-256 under a key derived (HKDF) from an encryption key, so that a
// leaked database cannot be searched for codes without that key.
package recoverycode

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Length is the number of characters of a code; each carries 5 bits.
const Length = 10

// alphabet is Crockford's base32: no I, L, O or U.
const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// New returns a fresh code, grouped for reading as XXXXX-XXXXX.
func New() string {
	b := make([]byte, Length)
	rand.Read(b)
	var sb strings.Builder
	for i, c := range b {
		if i == Length/2 {
			sb.WriteByte('-')
		}
		sb.WriteByte(alphabet[c&31])
	}
	return sb.String()
}

// Normalize returns the code as it is hashed: spaces and dashes removed,
// upper case, and Crockford's look-alikes read as the digits they stand for
// (I and L as 1, O as 0). ok is false for anything that is not a code.
func Normalize(s string) (string, bool) {
	var sb strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == ' ' || r == '-':
			continue
		case r == 'I' || r == 'L':
			r = '1'
		case r == 'O':
			r = '0'
		}
		if r > 127 || !strings.ContainsRune(alphabet, r) {
			return "", false
		}
		sb.WriteRune(r)
	}
	return sb.String(), sb.Len() == Length
}

// Hasher keys the hashes of codes.
type Hasher struct{ key []byte }

// NewHasher derives the hashing key from an encryption key.
func NewHasher(encryptionKey []byte) (*Hasher, error) {
	k, err := hkdf.Key(sha256.New, encryptionKey, nil, "pbxauth/recovery-codes/v1", 32)
	if err != nil {
		return nil, err
	}
	return &Hasher{key: k}, nil
}

// Hash returns the stored form of a code of the user: the code is
// normalised first, so any spelling the user types hashes alike; ok is
// false for a string that is not a code.
func (h *Hasher) Hash(userID, code string) (string, bool) {
	n, ok := Normalize(code)
	if !ok {
		return "", false
	}
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(userID))
	m.Write([]byte{0})
	m.Write([]byte(n))
	return hex.EncodeToString(m.Sum(nil)), true
}
