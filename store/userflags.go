// This file holds the Store's part of operating on users from Go: flags set
// alone, so that an operator disabling a user never writes back a password
// hash that changed meanwhile.

package store

import "context"

// UserFlagStore sets one flag of a user, leaving every other field as it is.
// Every shipped store implements it, and storetest checks it; [Store] embeds
// it. (UpdateUser replaces the whole record: a read, change and UpdateUser
// racing a password reset would restore the old password.)
type UserFlagStore interface {
	// SetUserDisabled sets the user's Disabled flag, and when it disables,
	// advances the user's Epoch in the same step; ErrNotFound for an
	// unknown user.
	SetUserDisabled(ctx context.Context, userID string, disabled bool) error
	// SetPasswordForceReset sets the user's PasswordForceReset flag;
	// ErrNotFound for an unknown user.
	SetPasswordForceReset(ctx context.Context, userID string, force bool) error
	// SetUsername renames the user, leaving every other field (the
	// password hash, the epoch) as it is; ErrConflict when another user of
	// the same tenant (or another system user) holds username,
	// case-insensitively as UserByName matches (a change of case alone is
	// no conflict); ErrNotFound for an unknown user.
	SetUsername(ctx context.Context, userID, username string) error
}
