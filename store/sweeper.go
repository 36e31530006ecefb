// This file holds Sweeper, the optional capability that reclaims the space
// of expired records.

package store

import (
	"context"
	"time"
)

// Sweeper is implemented by stores that can delete expired records (tokens
// and families past their life, flows, counters, devices). Expired records are already
// invisible through Store; sweeping only reclaims space.
type Sweeper interface {
	// DeleteExpired deletes what is expired at now (by the rule of Store)
	// and says how many records went; the count is informational. Records
	// that are still needed to refuse something (a rotated refresh token of
	// a live family) are kept. Revoked families go with their tokens,
	// whatever their life. Grace seeds are erased from their GraceUntil.
	DeleteExpired(ctx context.Context, now time.Time) (int64, error)
}
