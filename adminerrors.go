// This file holds the errors of the Go admin API ("Operating it from Go").

package pbxauth

import (
	"fmt"

	"github.com/pbxauth/pbxauth/store"
)

// Errors the admin methods of [Auth] return, possibly wrapped; test them
// with errors.Is. They are the store's own sentinels, so a host never needs
// package store to tell them apart.
var (
	// ErrNotFound: the user, tenant or sign-in named does not exist.
	ErrNotFound = store.ErrNotFound
	// ErrConflict: the username, domain or ID is taken.
	ErrConflict = store.ErrConflict
	// ErrInvalid: the input breaks a rule; the error's text says which.
	ErrInvalid = store.ErrInvalid
)

// invalidf returns an error wrapping ErrInvalid.
func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}
