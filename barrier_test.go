// A Store that holds requests at one method until a number of them have
// reached it, and then lets them all go at once: racers are then surely
// all past that step when the first of them goes on, the window that
// requests arriving by chance a little apart would rarely hit.

package pbxauth_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/store"
)

// barrierStore holds, once armed, the next n calls of one method —
// successful reads of a flow (Flow) or successful writes of one
// (UpdateFlow), or reads of a tenant's Microsoft credentials
// (MS365Credentials, ms365cert_test.go) — until n are held; other calls
// pass.
type barrierStore struct {
	*memstore.Store
	at    string // "Flow", "UpdateFlow" or "MS365Credentials"
	mu    sync.Mutex
	n     int // calls still to hold; 0: disarmed
	ready chan struct{}
}

// newBarrierStore returns a seeded barrierStore that holds at method at.
func newBarrierStore(t testing.TB, at string) *barrierStore {
	st := &barrierStore{Store: memstore.New(), at: at}
	seed(t, st)
	return st
}

// arm holds the next n calls.
func (s *barrierStore) arm(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n, s.ready = n, make(chan struct{})
}

// pass holds a call of method while armed for it.
func (s *barrierStore) pass(method string) {
	s.mu.Lock()
	if s.at != method || s.n == 0 {
		s.mu.Unlock()
		return
	}
	s.n--
	ready := s.ready
	if s.n == 0 {
		close(ready)
	}
	s.mu.Unlock()
	<-ready
}

func (s *barrierStore) Flow(ctx context.Context, h store.Hash, now time.Time) (store.Flow, error) {
	f, err := s.Store.Flow(ctx, h, now)
	if err == nil {
		s.pass("Flow")
	}
	return f, err
}

func (s *barrierStore) UpdateFlow(ctx context.Context, f store.Flow, now time.Time) error {
	err := s.Store.UpdateFlow(ctx, f, now)
	if err == nil {
		s.pass("UpdateFlow")
	}
	return err
}
