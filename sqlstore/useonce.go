// This file records the uses of sealed states. UseOnce is one INSERT that
// does nothing on a conflict, so the database's primary key decides every
// race, also between processes, without a failed statement to log.

package sqlstore

import (
	"context"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// UseOnce implements store.Store.
func (s *Store) UseOnce(ctx context.Context, purpose string, id [16]byte, expiresAt time.Time) error {
	n, err := affected(s.db.ExecContext(ctx, `INSERT INTO pbxauth_use_once (purpose, id, keep_until) VALUES ($1, $2, $3)
		ON CONFLICT (purpose, id) DO NOTHING`, purpose, id[:], micros(expiresAt.Add(store.UseOnceMargin))))
	if err == nil && n == 0 {
		err = store.ErrConflict
	}
	return storeErr("use once", err)
}
