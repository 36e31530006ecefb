// This file holds Hasher: argon2id under the lanes' bound, with a dummy
// hash for unknown users so the cost of an answer does not tell whether
// the user exists.

package hasher

import (
	"context"
	"crypto/rand"
	"sync/atomic"
	"time"
)

// Hasher verifies and makes password hashes under a bound. It is safe for
// concurrent use.
type Hasher struct {
	params Params
	pool   *Pool
	dummy  phc           // a hash of a random password, with params
	count  atomic.Uint64 // hashes computed
	// onWait, when set before use, is told how long each hash waited for
	// its slot (for metrics).
	onWait func(time.Duration)
}

// OnWait sets fn to be told how long each hash waited for a slot. It must
// be called before the Hasher is used.
func (h *Hasher) OnWait(fn func(time.Duration)) { h.onWait = fn }

// acquire takes a slot as Pool.Acquire does, reporting the wait.
func (h *Hasher) acquire(ctx context.Context, lane Lane, key string) (func(), error) {
	start := time.Now()
	_, release, err := h.pool.Acquire(ctx, lane, key)
	if err == nil && h.onWait != nil {
		h.onWait(time.Since(start))
	}
	return release, err
}

// New returns a Hasher that makes hashes with p and runs at most
// concurrent of them at once, each lane queueing up to queue more.
func New(p Params, concurrent, queue int) (*Hasher, error) {
	pw := make([]byte, 24)
	rand.Read(pw)
	dummy, err := parsePHC(Hash(b64.EncodeToString(pw), p))
	if err != nil {
		return nil, err
	}
	return &Hasher{params: p, pool: NewPool(concurrent, queue), dummy: dummy}, nil
}

// Pool returns the hasher's lanes, for tests and metrics.
func (h *Hasher) Pool() *Pool { return h.pool }

// Count returns how many hashes the hasher has computed.
func (h *Hasher) Count() uint64 { return h.count.Load() }

// Verify checks password against a PHC hash in lane (with key: see
// [Pool.Acquire]); an empty or unreadable hash is checked against the
// dummy, so the answer still costs one hash, and never matches. It reports
// whether the password matched and whether its hash should be remade with
// the hasher's stronger parameters. The error is ErrBusy or the context's:
// nothing was checked then.
func (h *Hasher) Verify(ctx context.Context, lane Lane, key, phcHash, password string) (ok, upgrade bool, err error) {
	parsed, perr := parsePHC(phcHash)
	if perr != nil {
		parsed = h.dummy
	}
	release, err := h.acquire(ctx, lane, key)
	if err != nil {
		return false, false, err
	}
	match := parsed.matches(password)
	release()
	h.count.Add(1)
	ok = perr == nil && match
	return ok, ok && parsed.params.weaker(h.params), nil
}

// Hash makes a new PHC hash of password with the hasher's parameters, in
// lane.
func (h *Hasher) Hash(ctx context.Context, lane Lane, key, password string) (string, error) {
	release, err := h.acquire(ctx, lane, key)
	if err != nil {
		return "", err
	}
	defer release()
	h.count.Add(1)
	return Hash(password, h.params), nil
}
