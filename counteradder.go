// This file holds CounterAdder, the Store capability every limit stands on:
// an atomic add to a shared counter, so that of many concurrent attempts
// each sees its own count and none is lost.

package pbxauth

import (
	"context"
	"time"
)

// CounterAdder adds to counters atomically. It is part of [Store].
//
// Limits count an attempt before the expensive check (a password hash, a
// code comparison) with one AddCounterBelow, after reading that a place
// is left: a compare-and-swap on [Store.PutCounter] would make concurrent
// attempts retry, and a retry budget that runs out lets the attempt
// through uncounted or refuses it for nothing.
type CounterAdder interface {
	// AddCounter adds delta (which may be negative) to the Count of the
	// counter key and returns the counter as stored afterwards, in one
	// atomic step, also across processes sharing the backend: n concurrent
	// adds of 1 to a fresh counter return the counts 1 … n, each once.
	//
	// A missing counter, or one expired at now, starts afresh: Count 0,
	// Locks 0, no LockedUntil, WindowStart now, ExpiresAt expiresAt. A
	// live counter keeps its other fields; its ExpiresAt becomes the later
	// of the stored one and expiresAt. Count never goes below zero. The
	// Version moves as with PutCounter, so a compare-and-swap that read the
	// counter before the add loses. Errors are backend failures only.
	AddCounter(ctx context.Context, key string, delta int, expiresAt, now time.Time) (Counter, error)

	// AddCounterBelow adds 1 to the Count of the counter key only if the
	// Count is below limit, in one atomic step, also across processes
	// sharing the backend: of n concurrent calls against a counter at
	// count c, exactly max(0, min(n, limit-c)) add. It is how a limit
	// takes a place: a request that finds no place left changes nothing,
	// so a refusal never turns into a write, and contention never makes
	// it give up (it is one step, not a compare-and-swap to retry).
	//
	// A missing counter, or one expired at now, counts 0 and starts
	// afresh as with AddCounter. When it adds, it returns the counter as
	// AddCounter would have, and added true. When it does not (the count
	// is limit or more, or limit is 0 or less), it stores nothing — not
	// even a later ExpiresAt or a new Version — and returns added false
	// with a Counter of which only Key is set. Errors are backend
	// failures only.
	AddCounterBelow(ctx context.Context, key string, limit int, expiresAt, now time.Time) (c Counter, added bool, err error)
}
