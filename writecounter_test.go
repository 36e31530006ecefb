// The write-counting Store of the tests that a refused request writes
// nothing: one wrapper, counting every Store method that writes, so that a
// write through a method a test did not think of still shows.

package pbxauth_test

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/store"
)

// writeCounter is a Store that counts the calls of its methods that write:
// by method, and for counters by method and the key's kind (what precedes
// ':', '#' or '@'), as "AddCounter flow-starts".
type writeCounter struct {
	store.Store
	mu     sync.Mutex
	writes map[string]int
}

// newWriteCounter counts the writes to a seeded memory store.
func newWriteCounter(t testing.TB) *writeCounter {
	st := memstore.New()
	seed(t, st)
	return &writeCounter{Store: st, writes: map[string]int{}}
}

// countWrites puts a writeCounter in front of the env's store. The
// wrapper hides the store's Outbox, so mail is volatile.
func countWrites(w **writeCounter) func(*pbxauth.Config) {
	return func(c *pbxauth.Config) {
		*w = &writeCounter{Store: c.Store, writes: map[string]int{}}
		c.Store, c.VolatileMail = *w, true
	}
}

func (w *writeCounter) count(op string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes[op]++
}

// counterKind is the kind of a counter's key: what precedes ':', '#' or '@'.
func counterKind(key string) string {
	if i := strings.IndexAny(key, ":#@"); i >= 0 {
		return key[:i]
	}
	return key
}

// reset forgets the writes counted so far.
func (w *writeCounter) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	clear(w.writes)
}

// snapshot returns the writes so far.
func (w *writeCounter) snapshot() map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return maps.Clone(w.writes)
}

// since returns the writes made after before, leaving out those whose name
// begins with one of skip.
func (w *writeCounter) since(before map[string]int, skip ...string) map[string]int {
	d := map[string]int{}
	for k, v := range w.snapshot() {
		if n := v - before[k]; n > 0 && !slicesHasPrefix(skip, k) {
			d[k] = n
		}
	}
	return d
}

func slicesHasPrefix(prefixes []string, s string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// String lists the writes counted, as "AddCounter flow-starts×300".
func (w *writeCounter) String() string {
	var s []string
	for op, n := range w.snapshot() {
		s = append(s, fmt.Sprintf("%s×%d", op, n))
	}
	sort.Strings(s)
	return strings.Join(s, " ")
}

// wantNoWrites fails t when anything was written since the last reset.
func (w *writeCounter) wantNoWrites(t *testing.T, what string) {
	t.Helper()
	if s := w.String(); s != "" {
		t.Fatalf("%s wrote to the Store: %s", what, s)
	}
}

func (w *writeCounter) AddCounter(ctx context.Context, key string, delta int, expiresAt, now time.Time) (store.Counter, error) {
	w.count("AddCounter " + counterKind(key))
	return w.Store.AddCounter(ctx, key, delta, expiresAt, now)
}

func (w *writeCounter) AddCounterBelow(ctx context.Context, key string, limit int, expiresAt, now time.Time) (store.Counter, bool, error) {
	w.count("AddCounterBelow " + counterKind(key))
	return w.Store.AddCounterBelow(ctx, key, limit, expiresAt, now)
}

func (w *writeCounter) PutCounter(ctx context.Context, c store.Counter, now time.Time) error {
	w.count("PutCounter " + counterKind(c.Key))
	return w.Store.PutCounter(ctx, c, now)
}

func (w *writeCounter) DeleteCounter(ctx context.Context, key string) error {
	w.count("DeleteCounter " + counterKind(key))
	return w.Store.DeleteCounter(ctx, key)
}

func (w *writeCounter) CreateFlow(ctx context.Context, f store.Flow) error {
	w.count("CreateFlow")
	return w.Store.CreateFlow(ctx, f)
}

func (w *writeCounter) UpdateFlow(ctx context.Context, f store.Flow, now time.Time) error {
	w.count("UpdateFlow")
	return w.Store.UpdateFlow(ctx, f, now)
}

func (w *writeCounter) ConsumeFlow(ctx context.Context, h store.Hash, p store.FlowPurpose, now time.Time) (store.Flow, error) {
	w.count("ConsumeFlow")
	return w.Store.ConsumeFlow(ctx, h, p, now)
}

func (w *writeCounter) CreateFamily(ctx context.Context, f store.Family, maxLive int, ts ...store.Token) ([]string, error) {
	w.count("CreateFamily")
	return w.Store.CreateFamily(ctx, f, maxLive, ts...)
}

func (w *writeCounter) AddToken(ctx context.Context, t store.Token, now time.Time) error {
	w.count("AddToken")
	return w.Store.AddToken(ctx, t, now)
}

func (w *writeCounter) RotateRefresh(ctx context.Context, h store.Hash, now time.Time, next ...store.Token) (store.Grant, error) {
	w.count("RotateRefresh")
	return w.Store.RotateRefresh(ctx, h, now, next...)
}

func (w *writeCounter) TouchFamily(ctx context.Context, familyID string, now, staleBefore time.Time) error {
	w.count("TouchFamily")
	return w.Store.TouchFamily(ctx, familyID, now, staleBefore)
}

func (w *writeCounter) SwapPasswordHash(ctx context.Context, userID, old, next string) error {
	w.count("SwapPasswordHash")
	return w.Store.SwapPasswordHash(ctx, userID, old, next)
}

func (w *writeCounter) AddDevice(ctx context.Context, d store.Device, max int, now time.Time) error {
	w.count("AddDevice")
	return w.Store.AddDevice(ctx, d, max, now)
}

func (w *writeCounter) RotateDevice(ctx context.Context, old store.Hash, d store.Device, now time.Time) error {
	w.count("RotateDevice")
	return w.Store.RotateDevice(ctx, old, d, now)
}

func (w *writeCounter) UseOnce(ctx context.Context, purpose string, id [16]byte, expiresAt time.Time) error {
	w.count("UseOnce")
	return w.Store.UseOnce(ctx, purpose, id, expiresAt)
}
