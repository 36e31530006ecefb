// This file approximates several processes on one database: two Stores are
// opened on the same database and goroutines spread over both race for one
// single-use record. Each Store has its own connection pool, so only the
// database can make one of them win.

package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth/sqlstore"
	"github.com/pbxauth/pbxauth/store"
)

const racers = 16

// race runs fn(i, store) for i in [0, racers) in goroutines released
// together, alternating between the stores, and returns the errors by index.
func race(stores []*sqlstore.Store, fn func(i int, st *sqlstore.Store) error) []error {
	errs := make([]error, racers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			<-start
			errs[i] = fn(i, stores[i%len(stores)])
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// oneWinner fails t unless exactly one of errs is nil and all others are
// loser; it returns the winner's index.
func oneWinner(t *testing.T, what string, errs []error, loser error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("%s: racers %d and %d both won", what, winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, loser):
			t.Errorf("%s: racer %d: %v; want nil or %v", what, i, err, loser)
		}
	}
	if winner < 0 {
		t.Fatalf("%s: nobody won", what)
	}
	return winner
}

func TestTwoStoresOneWinner(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		dsn := b.fresh(t)
		stores := []*sqlstore.Store{open(t, dsn), open(t, dsn)}
		addUser(t, stores[0], "u1")
		_, _, refresh := signIn(t, stores[0], "u1", "f1")
		now := t0.Add(time.Minute)

		t.Run("RotateRefresh", func(t *testing.T) {
			errs := race(stores, func(i int, st *sqlstore.Store) error {
				_, err := st.RotateRefresh(ctx, refresh, now, nextTokens("f1", fmt.Sprint("racer ", i))...)
				return err
			})
			w := oneWinner(t, "RotateRefresh", errs, store.ErrTokenReused)
			for i := range racers {
				_, err := stores[1].Grant(ctx, store.HashToken(fmt.Sprint("refresh racer ", i)), store.RefreshToken, now)
				if i == w && err != nil {
					t.Errorf("the winner's next refresh token: %v", err)
				}
				if i != w && !errors.Is(err, store.ErrNotFound) {
					t.Errorf("loser %d's next refresh token: %v; want ErrNotFound", i, err)
				}
			}
		})

		t.Run("AcceptTOTPStep", func(t *testing.T) {
			if err := stores[0].PutPendingTOTP(ctx, store.TOTP{UserID: "u1", Secret: []byte("sealed"), CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
			codes := []string{"c1", "c2"}
			if err := stores[1].ActivateTOTP(ctx, "u1", 0, 10, codes); err != nil {
				t.Fatal(err)
			}
			errs := race(stores, func(i int, st *sqlstore.Store) error { return st.AcceptTOTPStep(ctx, "u1", 11) })
			oneWinner(t, "AcceptTOTPStep", errs, store.ErrConflict)
			errs = race(stores, func(i int, st *sqlstore.Store) error { return st.ConsumeRecoveryCode(ctx, "u1", "c2") })
			oneWinner(t, "ConsumeRecoveryCode", errs, store.ErrNotFound)
		})

		t.Run("ConsumeFlow", func(t *testing.T) {
			fl := store.Flow{Hash: store.HashToken("flow"), Purpose: store.FlowPasswordReset, UserID: "u1", ExpiresAt: now.Add(time.Minute)}
			if err := stores[1].CreateFlow(ctx, fl); err != nil {
				t.Fatal(err)
			}
			errs := race(stores, func(i int, st *sqlstore.Store) error {
				_, err := st.ConsumeFlow(ctx, fl.Hash, store.FlowPasswordReset, now)
				return err
			})
			oneWinner(t, "ConsumeFlow", errs, store.ErrNotFound)
		})

		t.Run("UpdateFlow", func(t *testing.T) {
			fl := store.Flow{Hash: store.HashToken("otp"), Purpose: store.FlowTwoFactor, UserID: "u1", ExpiresAt: now.Add(time.Minute)}
			if err := stores[1].CreateFlow(ctx, fl); err != nil {
				t.Fatal(err)
			}
			errs := race(stores, func(i int, st *sqlstore.Store) error {
				f := fl
				f.Version, f.Attempts = 1, i+1
				return st.UpdateFlow(ctx, f, now)
			})
			w := oneWinner(t, "UpdateFlow", errs, store.ErrConflict)
			got, err := stores[0].Flow(ctx, fl.Hash, now)
			if err != nil || got.Attempts != w+1 || got.Version != 2 {
				t.Errorf("Flow after the race = %+v, %v; want the winner's attempts %d and version 2", got, err, w+1)
			}
		})

		t.Run("PutCounter", func(t *testing.T) {
			for _, version := range []int64{0, 1} {
				errs := race(stores, func(i int, st *sqlstore.Store) error {
					c := store.Counter{Key: "k", Count: i, ExpiresAt: now.Add(time.Minute), Version: version}
					return st.PutCounter(ctx, c, now)
				})
				w := oneWinner(t, fmt.Sprint("PutCounter version ", version), errs, store.ErrConflict)
				got, err := stores[1].Counter(ctx, "k", now)
				if err != nil || got.Count != w || got.Version != version+1 {
					t.Errorf("Counter after the race = %+v, %v; want the winner's count %d, version %d", got, err, w, version+1)
				}
			}
		})

		t.Run("AddCounter", func(t *testing.T) {
			// Every add over both pools is counted once: the counts
			// returned are 1 … racers, each once.
			counts := make([]int, racers)
			errs := race(stores, func(i int, st *sqlstore.Store) error {
				c, err := st.AddCounter(ctx, "slots", 1, now.Add(time.Minute), now)
				counts[i] = c.Count
				return err
			})
			seen := map[int]bool{}
			for i, err := range errs {
				if err != nil {
					t.Fatalf("racer %d: %v", i, err)
				}
				seen[counts[i]] = true
			}
			for n := 1; n <= racers; n++ {
				if !seen[n] {
					t.Fatalf("AddCounter over two stores returned %v; want 1 … %d each once", counts, racers)
				}
			}
		})

		t.Run("AddCounterBelow", func(t *testing.T) {
			// Of the adds over both pools against a limit of 5 exactly 5
			// add, returning the counts 1 … 5 each once; the rest change
			// nothing.
			const limit = 5
			counts := make([]int, racers)
			errs := race(stores, func(i int, st *sqlstore.Store) error {
				c, added, err := st.AddCounterBelow(ctx, "places", limit, now.Add(time.Minute), now)
				if added {
					counts[i] = c.Count
				}
				return err
			})
			seen := map[int]int{}
			for i, err := range errs {
				if err != nil {
					t.Fatalf("racer %d: %v", i, err)
				}
				seen[counts[i]]++
			}
			for n := 1; n <= limit; n++ {
				if seen[n] != 1 {
					t.Fatalf("AddCounterBelow over two stores returned %v; want 1 … %d each once and the rest refused", counts, limit)
				}
			}
			if c, err := stores[1].Counter(ctx, "places", now); err != nil || c.Count != limit || c.Version != limit {
				t.Fatalf("the counter after the race: %+v, %v; want count and version %d", c, err, limit)
			}
		})

		t.Run("RotateDevice", func(t *testing.T) {
			d := store.Device{Hash: store.HashToken("device"), UserID: "u1", LastUsedAt: now, ExpiresAt: now.Add(time.Hour)}
			if err := stores[0].AddDevice(ctx, d, 10, now); err != nil {
				t.Fatal(err)
			}
			errs := race(stores, func(i int, st *sqlstore.Store) error {
				next := d
				next.Hash = store.HashToken(fmt.Sprint("device ", i))
				return st.RotateDevice(ctx, d.Hash, next, now)
			})
			oneWinner(t, "RotateDevice", errs, store.ErrNotFound)
		})
	})
}
