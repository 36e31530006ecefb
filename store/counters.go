// This file holds counters, which every limit stands on: the Counter
// record, CounterStore to read and replace one, and CounterAdder, an atomic
// add, so that of many concurrent attempts each sees its own count and none
// is lost.

package store

import (
	"context"
	"time"
)

// Counter is a small, expiring, shared counter used for throttling (failed
// sign-ins per account and per address, reset mails per user).
type Counter struct {
	Key         string // UTF-8 text without NUL
	Count       int
	Locks       int       // how many times the key has been locked
	LockedUntil time.Time // zero when not locked
	WindowStart time.Time
	ExpiresAt   time.Time // the store forgets the counter from then on
	// Version is the compare-and-swap guard of PutCounter; 0 for a counter
	// that does not exist yet.
	Version int64
}

// CounterStore keeps small, expiring counters by key. It is part of [Store]
// (with [CounterAdder]).
type CounterStore interface {
	// Counter returns the counter with the given key, or a zero Counter
	// with that Key and Version 0 (and nil error) when it is missing or
	// expired at now.
	Counter(ctx context.Context, key string, now time.Time) (Counter, error)
	// PutCounter stores c if the stored version still equals c.Version (a
	// missing or expired counter has version 0), with Version+1;
	// ErrConflict otherwise.
	PutCounter(ctx context.Context, c Counter, now time.Time) error
	// DeleteCounter removes a counter; a missing one is not an error.
	DeleteCounter(ctx context.Context, key string) error
}

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
