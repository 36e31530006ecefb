// This file holds UseOnceStore, the Store capability that makes a sealed
// state single-use: the state itself travels with the client, so the Store
// keeps only the fact that its random ID was used, and only until the
// state could no longer be accepted anyway.

package store

import (
	"context"
	"time"
)

// UseOnceMargin is how long past its expiresAt a store keeps the record of
// a use: a state is refused from its expiry by the clock of the instance
// that opens it, and instances' clocks differ by a little.
const UseOnceMargin = 5 * time.Minute

// UseOnceStore records the single use of sealed states (the OAuth state of
// a Microsoft sign-in). It is part of [Store].
type UseOnceStore interface {
	// UseOnce records that the state of the given purpose (UTF-8 text
	// without NUL, at most 64 bytes) and random id was used: it inserts
	// the record if there is none and returns ErrConflict if there is one,
	// in one atomic step, also across processes sharing the backend — of
	// concurrent calls with one purpose and id exactly one returns nil.
	// The record is kept at least until expiresAt + UseOnceMargin, and a
	// Sweeper deletes it from then on. Errors other than ErrConflict are
	// backend failures, after which the use may or may not be recorded.
	UseOnce(ctx context.Context, purpose string, id [16]byte, expiresAt time.Time) error
}
