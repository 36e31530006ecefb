package pbxauth

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/pbxauth/pbxauth/internal/hasher"
	"github.com/pbxauth/pbxauth/internal/memoutbox"
	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/store"
)

// Hooks for the black-box tests in package pbxauth_test.

// HashCount returns how many argon2id hashes a has computed.
func HashCount(a *Auth) uint64 { return a.hasher.Count() }

// SaturateHasher occupies every hashing slot and ordinary queue place, as a
// burst of slow sign-ins would, until release is called.
func SaturateHasher(a *Auth) (release func()) {
	return saturate(a, a.hasher.Pool().Slots(), hasher.Known)
}

// SaturateOrdinaryLane occupies the hashing slots that requests without a
// known device may hold, and their whole queue, as a distributed guessing
// attack does; the slots reserved for known devices stay free.
func SaturateOrdinaryLane(a *Auth) (release func()) {
	return saturate(a, a.hasher.Pool().OrdinarySlots(), hasher.Ordinary)
}

func saturate(a *Auth, slots int, lane hasher.Lane) (release func()) {
	p := a.hasher.Pool()
	var releases []func()
	for i := range slots {
		_, r, err := p.Acquire(context.Background(), lane, fmt.Sprint("saturate ", i))
		if err != nil {
			panic(err)
		}
		releases = append(releases, r)
	}
	ctx, cancel := context.WithCancel(context.Background())
	queue := a.cfg.HashQueue
	for range queue {
		go func() {
			if _, r, err := p.Acquire(ctx, hasher.Ordinary, ""); err == nil {
				r()
			}
		}()
	}
	for deadline := time.Now().Add(10 * time.Second); p.Stats().OrdinaryQueue < queue; runtime.Gosched() {
		if time.Now().After(deadline) {
			panic("the ordinary queue did not fill")
		}
	}
	return func() {
		cancel()
		for _, r := range releases {
			r()
		}
	}
}

// HoldHashing occupies every hashing slot but none of the queue, until
// release is called: sign-ins then wait for hashing with their attempt
// slots taken. queued returns once n of them wait.
func HoldHashing(a *Auth) (queued func(n int), release func()) {
	p := a.hasher.Pool()
	var releases []func()
	for i := range p.Slots() {
		_, r, err := p.Acquire(context.Background(), hasher.Known, fmt.Sprint("hold ", i))
		if err != nil {
			panic(err)
		}
		releases = append(releases, r)
	}
	queued = func(n int) {
		for deadline := time.Now().Add(10 * time.Second); p.Stats().OrdinaryQueue < n; runtime.Gosched() {
			if time.Now().After(deadline) {
				panic("the sign-ins did not queue")
			}
		}
	}
	return queued, func() {
		for _, r := range releases {
			r()
		}
	}
}

// OutboxLen returns how many records a's in-memory outbox holds (-1 when
// its outbox is not in memory).
func OutboxLen(a *Auth) int {
	switch ob := a.outbox.(type) {
	case *memstore.Store, *memoutbox.Outbox:
		n, _, err := ob.(store.OutboxReporter).OutboxStats(context.Background())
		if err != nil {
			return -1
		}
		return n
	}
	return -1
}

// ClearLimits lifts the sign-in lock of a submitted account and the lock
// of a user's second factor, as an unlock does.
func ClearLimits(a *Auth, domain, username, userID string) error {
	return a.clearLimits(context.Background(), domain, username, userID)
}
