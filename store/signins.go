// This file holds the Store's part of "Sessions and devices": what a user's
// sign-ins record beyond their tokens, how they are listed, and how one or
// all but one of them end.

package store

import (
	"context"
	"time"
)

// SignInStore lists and ends a user's sign-ins (token families). Every
// shipped store implements it, and storetest checks it; [Store] embeds it.
//
// A family is live at now when it is not revoked and now is before its
// ExpiresAt. Revoking a family revokes every token of it at once, for every
// instance sharing the store, which is what ends a cookie session too: the
// browser session only names its sign-in.
type SignInStore interface {
	// TouchFamily sets the family's LastUsedAt to now when the stored
	// LastUsedAt is not after staleBefore, in one conditional write, so
	// that of many instances touching one sign-in within a minute only
	// one writes. A missing family, or one used after staleBefore, is not
	// an error: nothing is written.
	TouchFamily(ctx context.Context, familyID string, now, staleBefore time.Time) error
	// Families returns the user's live families at now, newest first
	// (CreatedAt descending, ties by ID descending); an empty slice and
	// nil error when there are none.
	Families(ctx context.Context, userID string, now time.Time) ([]Family, error)
	// RevokeUserFamily revokes the family familyID if it is the user's and
	// live at now; ErrNotFound when it is missing, another user's, revoked
	// or expired.
	RevokeUserFamily(ctx context.Context, userID, familyID string, now time.Time) error
	// RevokeOtherFamilies revokes every live family of the user at now but
	// except ("" spares none) and advances the user's Epoch, in one step
	// (so that no sign-in still in flight survives it either), and returns
	// the IDs it revoked (in no particular order; empty when none).
	RevokeOtherFamilies(ctx context.Context, userID, except string, now time.Time) ([]string, error)
	// RevokeMethodFamilies revokes every live family of the user at now
	// whose Method is method and advances the user's Epoch, in one step:
	// the sign-ins made through a way of signing in that changed end, in
	// flight too, and the others are carried over. It returns the IDs it
	// revoked (in no particular order; empty when none).
	RevokeMethodFamilies(ctx context.Context, userID, method string, now time.Time) ([]string, error)
}
