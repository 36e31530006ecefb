// This file implements UseOnceStore for the memory store.

package memstore

import (
	"context"
	"sync"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// memUseOnce keeps the uses of sealed states of the memory store under a lock
// of its own: a callback never waits for token checks.
type memUseOnce struct {
	mu   sync.Mutex
	used map[useOnceKey]time.Time // -> expiresAt as given
}

type useOnceKey struct {
	purpose string
	id      [16]byte
}

// UseOnce implements UseOnceStore.
func (m *Store) UseOnce(ctx context.Context, purpose string, id [16]byte, expiresAt time.Time) error {
	u := &m.useOnce
	u.mu.Lock()
	defer u.mu.Unlock()
	k := useOnceKey{purpose, id}
	if _, ok := u.used[k]; ok {
		return store.ErrConflict
	}
	if u.used == nil {
		u.used = map[useOnceKey]time.Time{}
	}
	u.used[k] = expiresAt
	return nil
}

// sweep deletes the uses kept long enough at now and says how many went.
func (u *memUseOnce) sweep(now time.Time) int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	var n int64
	for k, exp := range u.used {
		if expired(exp.Add(store.UseOnceMargin), now) {
			delete(u.used, k)
			n++
		}
	}
	return n
}
