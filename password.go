// This file holds password hashing: argon2id in PHC string form, NFKC
// normalisation, upgrade of weak parameters, and the limiter that keeps
// concurrent hashing (19 MiB each by default) from exhausting memory.

package pbxauth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/pbxauth/pbxauth/internal/hashlane"
	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"
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

const (
	saltLen = 16
	keyLen  = 32
)

var b64 = base64.RawStdEncoding

// normalizePassword gives one byte string for the many ways a keyboard can
// type the same password (NFKC).
func normalizePassword(p string) string { return norm.NFKC.String(p) }

// HashPassword returns the argon2id PHC string of password with p (the zero
// value means DefaultArgon2). Hosts use it to create users; passwords longer
// than 1024 bytes are refused.
func HashPassword(password string, p Argon2Params) (string, error) {
	if len(password) > maxPasswordBytes {
		return "", errors.New("pbxauth: password longer than 1024 bytes")
	}
	if p == (Argon2Params{}) {
		p = DefaultArgon2
	}
	salt := make([]byte, saltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(normalizePassword(password)), salt, p.Time, p.Memory, p.Threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// phc is a parsed argon2id PHC string.
type phc struct {
	params    Argon2Params
	salt, key []byte
}

func parsePHC(s string) (phc, error) {
	var h phc
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return h, errors.New("pbxauth: not an argon2id PHC string")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return h, errors.New("pbxauth: unsupported argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &h.params.Memory, &h.params.Time, &h.params.Threads); err != nil {
		return h, errors.New("pbxauth: bad argon2 parameters")
	}
	if h.params.Memory == 0 || h.params.Time == 0 || h.params.Threads == 0 || h.params.Memory > 1<<22 {
		return h, errors.New("pbxauth: bad argon2 parameters")
	}
	var err error
	if h.salt, err = b64.DecodeString(parts[4]); err != nil {
		return h, err
	}
	if h.key, err = b64.DecodeString(parts[5]); err != nil || len(h.key) == 0 {
		return h, errors.New("pbxauth: bad argon2 hash")
	}
	return h, nil
}

// weaker reports whether p costs less than want in any dimension.
func (p Argon2Params) weaker(want Argon2Params) bool {
	return p.Memory < want.Memory || p.Time < want.Time || p.Threads < want.Threads
}

// hasher runs argon2id under a concurrency bound with two lanes
// (internal/hashlane): sign-ins through a known device may use every slot
// and go first, all other hashing holds at most half. Every verification in
// a sign-in, including the dummy one for unknown users, goes through it, so
// the cost of a request does not tell whether the user exists.
type hasher struct {
	params Argon2Params
	pool   *hashlane.Pool
	dummy  string        // a hash of a random password, with params
	onHash func()        // test hook: counts hashes
	count  atomic.Uint64 // hashes computed, for tests and metrics
}

func newHasher(p Argon2Params, concurrent, queue int) (*hasher, error) {
	h := &hasher{params: p, pool: hashlane.New(concurrent, queue)}
	pw := make([]byte, 24)
	rand.Read(pw)
	var err error
	h.dummy, err = HashPassword(b64.EncodeToString(pw), p)
	return h, err
}

// lane says which hashing lane a piece of work takes: Known with the key
// of its user for a sign-in through a known device, Ordinary (key "")
// for everything else.
type lane struct {
	lane hashlane.Lane
	key  string
}

var ordinaryLane = lane{lane: hashlane.Ordinary}

// acquire takes a hashing slot in l, waiting in its lane's short queue;
// past the queue it fails at once with hashlane.ErrBusy (the caller
// answers 503).
func (h *hasher) acquire(ctx context.Context, l lane) (release func(), err error) {
	_, release, err = h.pool.Acquire(ctx, l.lane, l.key)
	return release, err
}

// verify checks password against a PHC hash (the dummy hash when phcHash is
// empty or unreadable, so the answer still costs one hash). It reports
// whether it matched and whether the hash should be upgraded.
func (h *hasher) verify(ctx context.Context, l lane, phcHash, password string) (ok, upgrade bool, err error) {
	parsed, perr := parsePHC(phcHash)
	if perr != nil {
		parsed, _ = parsePHC(h.dummy)
	}
	release, err := h.acquire(ctx, l)
	if err != nil {
		return false, false, err
	}
	key := argon2.IDKey([]byte(normalizePassword(password)), parsed.salt, parsed.params.Time, parsed.params.Memory, parsed.params.Threads, uint32(len(parsed.key)))
	release()
	h.count.Add(1)
	if h.onHash != nil {
		h.onHash()
	}
	ok = perr == nil && subtle.ConstantTimeCompare(key, parsed.key) == 1
	return ok, ok && parsed.params.weaker(h.params), nil
}

// hash makes a new PHC hash with the configured parameters, under the bound.
func (h *hasher) hash(ctx context.Context, l lane, password string) (string, error) {
	release, err := h.acquire(ctx, l)
	if err != nil {
		return "", err
	}
	defer release()
	h.count.Add(1)
	return HashPassword(password, h.params)
}
