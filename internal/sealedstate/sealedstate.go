// Package sealedstate keeps the state of a flow with the client instead of
// in a store: a start that anyone may make then stores nothing, so no
// number of starts can fill anything. A state is sealed with AES-256-GCM
// under a key of its own, derived with HKDF-SHA-256 from a configured key,
// the state's purpose and a random salt, and is bound to additional data
// (the deployment's public URL) so that it opens nowhere else. The text is
// key id ‖ 32-byte salt ‖ nonce ‖ ciphertext in unpadded base64url.
//
// Sealing proves where a state came from and keeps it secret, but not that
// it is used once: the opener records each state's random ID, as
// [State.ID], where every instance sees it.
//
// Keys rotate: the first key seals, every listed key opens, so a new key
// goes first and an old one stays listed until the states it sealed have
// expired. A configured key is never used as a cipher key itself.
package sealedstate

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// KeySize is the size of every configured key.
const KeySize = 32

// IDSize is the size of a state's random ID: 128 bits.
const IDSize = 16

const (
	keyIDSize = 4
	saltSize  = 32
	nonceSize = 12 // GCM's standard nonce
	tagSize   = 16
	header    = keyIDSize + saltSize + nonceSize
	// MaxPurpose is the longest purpose: it is carried in one length byte.
	MaxPurpose = 255
	// maxText bounds what Open decodes; states are far shorter.
	maxText = 8 << 10
)

// Labels of HKDF, so that no derived key can stand for another.
const (
	labelKeyID  = "pbxauth sealed state: key id"
	labelState  = "pbxauth sealed state: key of a state\x00"
	labelDerive = "pbxauth sealed state: derived\x00"
	labelAD     = "pbxauth sealed state\x00"
)

// Errors of Open. A state that does not open is unknown, whatever the
// reason — malformed, changed, of another purpose or additional data, or
// sealed with a key no longer listed — so that the answer tells nothing.
var (
	ErrUnknown = errors.New("sealedstate: unknown state")
	ErrExpired = errors.New("sealedstate: state expired")
)

// Keys seals and opens states. It is safe for concurrent use.
type Keys struct {
	keys []masterKey // the first seals
}

type masterKey struct {
	id     [keyIDSize]byte
	secret []byte
}

// New checks keys (each KeySize bytes, no two alike, at least one) and
// returns them ready.
func New(keys [][]byte) (*Keys, error) {
	if len(keys) == 0 {
		return nil, errors.New("sealedstate: no key")
	}
	k := &Keys{}
	for i, key := range keys {
		if len(key) != KeySize {
			return nil, fmt.Errorf("sealedstate: key %d has %d bytes, want %d", i, len(key), KeySize)
		}
		m := masterKey{secret: append([]byte(nil), key...)}
		// The id names the key without revealing it, and differs from
		// what other uses of the same key show (secretbox's id).
		mac := hmac.New(sha256.New, m.secret)
		mac.Write([]byte(labelKeyID))
		copy(m.id[:], mac.Sum(nil))
		for _, other := range k.keys {
			if hmac.Equal(other.secret, m.secret) {
				return nil, fmt.Errorf("sealedstate: key %d is listed twice", i)
			}
		}
		k.keys = append(k.keys, m)
	}
	return k, nil
}

// State is a sealed state as opened, or as just sealed.
type State struct {
	ID        [IDSize]byte // random; the opener records it to accept the state once
	Purpose   string
	ExpiresAt time.Time
	Data      []byte // the caller's, opaque here

	derive []byte // the state's secret for Derive
}

// Derive returns n bytes derived from the state's own key and ID under
// label: secrets of the flow (a PKCE verifier, a nonce) that the state
// need not carry, which only a holder of the configured key can compute.
func (s State) Derive(label string, n int) []byte {
	b, err := hkdf.Key(sha256.New, s.derive, s.ID[:], labelDerive+label, n)
	if err != nil {
		panic("sealedstate: Derive: " + err.Error()) // only for n beyond 255 × 32
	}
	return b
}

// stateKeys derives a state's cipher and its secret for Derive from the
// master key, the purpose and the salt.
func stateKeys(m masterKey, purpose string, salt []byte) (cipher.AEAD, []byte) {
	b, err := hkdf.Key(sha256.New, m.secret, salt, labelState+purpose, 2*KeySize)
	if err != nil {
		panic("sealedstate: " + err.Error()) // cannot happen for 64 bytes
	}
	block, _ := aes.NewCipher(b[:KeySize])
	aead, _ := cipher.NewGCM(block)
	return aead, b[KeySize:]
}

// additional binds a state to its purpose and to the caller's additional data.
func additional(purpose string, extra []byte) []byte {
	b := make([]byte, 0, len(labelAD)+len(purpose)+1+len(extra))
	b = append(b, labelAD...)
	b = append(b, purpose...)
	b = append(b, 0)
	return append(b, extra...)
}

// Seal seals a new state of purpose with a fresh random ID, living until
// expiresAt, carrying data and bound to extra (the additional data Open
// must be given), under the first key. It returns the text and the state.
func (k *Keys) Seal(purpose string, expiresAt time.Time, data, extra []byte) (string, State, error) {
	if len(purpose) == 0 || len(purpose) > MaxPurpose {
		return "", State{}, fmt.Errorf("sealedstate: purpose must be 1-%d bytes", MaxPurpose)
	}
	m := k.keys[0]
	st := State{Purpose: purpose, ExpiresAt: expiresAt, Data: data}
	rand.Read(st.ID[:])
	plain := make([]byte, 0, IDSize+8+1+len(purpose)+len(data))
	plain = append(plain, st.ID[:]...)
	plain = binary.BigEndian.AppendUint64(plain, uint64(expiresAt.UnixNano()))
	plain = append(plain, byte(len(purpose)))
	plain = append(plain, purpose...)
	plain = append(plain, data...)

	box := make([]byte, header, header+len(plain)+tagSize)
	copy(box, m.id[:])
	rand.Read(box[keyIDSize:header]) // salt and nonce
	aead, derive := stateKeys(m, purpose, box[keyIDSize:keyIDSize+saltSize])
	box = aead.Seal(box, box[keyIDSize+saltSize:header], plain, additional(purpose, extra))
	st.derive = derive
	return base64.RawURLEncoding.EncodeToString(box), st, nil
}

// Open opens text as a state of purpose bound to extra, sealed with any of
// the keys, and checks that it is live at now. ErrUnknown for a text that
// does not open; ErrExpired for a state that opened but expired (a state
// is expired when now is not before its ExpiresAt).
func (k *Keys) Open(purpose, text string, extra []byte, now time.Time) (State, error) {
	if len(text) > maxText {
		return State{}, ErrUnknown
	}
	box, err := base64.RawURLEncoding.DecodeString(text)
	if err != nil || len(box) < header+tagSize {
		return State{}, ErrUnknown
	}
	for _, m := range k.keys {
		if [keyIDSize]byte(box[:keyIDSize]) != m.id {
			continue
		}
		aead, derive := stateKeys(m, purpose, box[keyIDSize:keyIDSize+saltSize])
		plain, err := aead.Open(nil, box[keyIDSize+saltSize:header], box[header:], additional(purpose, extra))
		if err != nil {
			continue // another listed key may share the id
		}
		st, ok := parse(plain)
		if !ok || st.Purpose != purpose {
			return State{}, ErrUnknown
		}
		st.derive = derive
		if !now.Before(st.ExpiresAt) {
			return State{}, ErrExpired
		}
		return st, nil
	}
	return State{}, ErrUnknown
}

// parse reads the plain text of a state.
func parse(plain []byte) (State, bool) {
	if len(plain) < IDSize+8+1 {
		return State{}, false
	}
	var st State
	copy(st.ID[:], plain)
	st.ExpiresAt = time.Unix(0, int64(binary.BigEndian.Uint64(plain[IDSize:]))).UTC()
	n := int(plain[IDSize+8])
	rest := plain[IDSize+8+1:]
	if len(rest) < n {
		return State{}, false
	}
	st.Purpose, st.Data = string(rest[:n]), rest[n:]
	return st, true
}
