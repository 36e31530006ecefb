// This file holds the sentinel errors of the Store contract.

package store

import (
	"errors"
	"fmt"
)

// Sentinel errors of the Store contract. Stores return them (possibly
// wrapped); handlers test them with errors.Is. Any other error is a backend
// failure: the handler answers 500 or 503 and issues nothing.
var (
	// ErrNotFound: the record does not exist, has expired at the given now,
	// was consumed, or (for tokens) was revoked.
	ErrNotFound = errors.New("pbxauth: not found")
	// ErrConflict: a record with the same unique key exists, or a
	// compare-and-swap lost to a concurrent writer.
	ErrConflict = errors.New("pbxauth: conflict")
	// ErrTokenReused: a refresh token that was already rotated was presented
	// again. RotateRefresh returns it together with the token's grant.
	ErrTokenReused = errors.New("pbxauth: refresh token reused")
	// ErrStale: a condition the caller read no longer holds — the user's
	// sign-in epoch moved (a password reset, a disable or a global sign-out
	// ended the user's sign-ins since the caller read the user), so the
	// sign-in, session or flow it was about to start is not stored.
	ErrStale = errors.New("pbxauth: stale")
	// ErrUnavailable wraps an outage of the backend — no connection, a
	// timeout, the database shutting down — as opposed to a failure of
	// the request itself: handlers answer 503 with Retry-After instead of
	// 500, since the same request may succeed in a moment.
	ErrUnavailable = errors.New("pbxauth: store unavailable")
)

// ErrInvalid: a record given to a Store breaks the Store contract's rules
// (see [User.Validate] and its siblings), or an argument of a method of
// pbxauth's Go API breaks a rule of the API. The error's text says which.
var ErrInvalid = errors.New("pbxauth: invalid")

// invalidf returns an error wrapping ErrInvalid.
func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}
