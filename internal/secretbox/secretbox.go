// Package secretbox encrypts small secrets at rest with AES-256-GCM under a
// list of keys, so that keys can rotate: the first key encrypts, every key
// decrypts. A box is key id ‖ nonce ‖ ciphertext, where the key id is the
// first 4 bytes of SHA-256(key): a box names the key that sealed it without
// revealing it. Additional data binds a box to its purpose and owner, so a
// box copied to another user's record does not open.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// KeySize is the size of every key: AES-256.
const KeySize = 32

const idSize = 4

// ErrOpen is returned for a box that no key opens: sealed with a key that is
// no longer listed, changed, or bound to other additional data.
var ErrOpen = errors.New("secretbox: the box does not open with any configured key")

// Keys seals and opens boxes. The zero Keys has no key: Seal fails and
// nothing opens.
type Keys struct {
	aeads []cipher.AEAD
	ids   [][idSize]byte
}

// New checks keys (each KeySize bytes, no two alike) and returns them ready.
func New(keys [][]byte) (*Keys, error) {
	k := &Keys{}
	for i, key := range keys {
		if len(key) != KeySize {
			return nil, fmt.Errorf("secretbox: key %d has %d bytes, want %d", i, len(key), KeySize)
		}
		block, _ := aes.NewCipher(key)
		aead, _ := cipher.NewGCM(block)
		sum := sha256.Sum256(key)
		var id [idSize]byte
		copy(id[:], sum[:])
		for _, other := range k.ids {
			if other == id {
				return nil, fmt.Errorf("secretbox: key %d is listed twice", i)
			}
		}
		k.aeads, k.ids = append(k.aeads, aead), append(k.ids, id)
	}
	return k, nil
}

// Len says how many keys there are.
func (k *Keys) Len() int { return len(k.aeads) }

// Seal encrypts secret with the first key, bound to ad.
func (k *Keys) Seal(secret, ad []byte) ([]byte, error) {
	if len(k.aeads) == 0 {
		return nil, errors.New("secretbox: no key to seal with")
	}
	aead := k.aeads[0]
	box := make([]byte, idSize+aead.NonceSize(), idSize+aead.NonceSize()+len(secret)+aead.Overhead())
	copy(box, k.ids[0][:])
	rand.Read(box[idSize:])
	return aead.Seal(box, box[idSize:], secret, ad), nil
}

// Open decrypts a box sealed with any of the keys and bound to ad.
func (k *Keys) Open(box, ad []byte) ([]byte, error) {
	for i, aead := range k.aeads {
		if len(box) < idSize+aead.NonceSize()+aead.Overhead() || [idSize]byte(box[:idSize]) != k.ids[i] {
			continue
		}
		nonce := box[idSize : idSize+aead.NonceSize()]
		if secret, err := aead.Open(nil, nonce, box[idSize+aead.NonceSize():], ad); err == nil {
			return secret, nil
		}
	}
	return nil, ErrOpen
}
