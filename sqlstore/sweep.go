// This file reclaims the space of expired records: DeleteExpired, and the
// janitor loop that calls it.

package sqlstore

import (
	"context"
	"strings"
	"time"
)

// DefaultJanitorInterval is how often RunJanitor sweeps when given no
// interval.
const DefaultJanitorInterval = 5 * time.Minute

// sweeps are DeleteExpired's statements, in order; $1, where used, is now. Each finds its
// rows through an index. Tokens go first, also those of expired families, so
// that the families' ON DELETE CASCADE finds none left and every deleted row
// is counted. (A token cannot outlive its family's row: the foreign key
// sees to that.)
var sweeps = []string{
	`DELETE FROM pbxauth_tokens WHERE expires_at <= $1`,
	`DELETE FROM pbxauth_tokens WHERE family_id IN (SELECT id FROM pbxauth_families WHERE expires_at <= $1)`,
	`DELETE FROM pbxauth_families WHERE expires_at <= $1`,
	// Revoked sign-ins go at the next sweep, not after their 30 days:
	// nothing of them can be used again, so nothing needs detecting.
	`DELETE FROM pbxauth_tokens WHERE family_id IN (SELECT id FROM pbxauth_families WHERE revoked = TRUE)`,
	`DELETE FROM pbxauth_families WHERE revoked = TRUE`,
	`DELETE FROM pbxauth_flows WHERE expires_at <= $1`,
	`DELETE FROM pbxauth_counters WHERE expires_at <= $1`,
	`DELETE FROM pbxauth_devices WHERE expires_at <= $1`,
	`DELETE FROM pbxauth_use_once WHERE keep_until <= $1`,
	// Not a deletion: grace seeds are erased once their window is over.
	`UPDATE pbxauth_tokens SET grace_seed = substr(grace_seed, 1, 0) WHERE length(grace_seed) > 0 AND grace_until <= $1`,
}

// DeleteExpired implements pbxauth.Sweeper. It deletes the tokens, families,
// flows, counters, devices and cookie sessions that expired at now, the uses of sealed states
// kept long enough, revoked families with their
// tokens, and erases grace seeds past their window, each table in its own statement,
// and returns how many rows went (also those of the statements before a
// failing one).
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	for _, q := range sweeps {
		var args []any
		if strings.Contains(q, "$1") { // PostgreSQL refuses an argument nothing uses
			args = append(args, micros(now))
		}
		n, err := affected(s.db.ExecContext(ctx, q, args...))
		if err != nil {
			return total, storeErr("delete expired", err)
		}
		total += n
	}
	n, err := affected(s.db.ExecContext(ctx, `DELETE FROM pbxauth_sessions WHERE expiry <= $1`, sqlSessions{s.db, s.dialect}.at(now)))
	if err != nil {
		return total, storeErr("delete expired sessions", err)
	}
	return total + n, nil
}

// RunJanitor deletes expired records at once and then every interval (every
// <= 0 means DefaultJanitorInterval), deciding expiry with now (nil means
// time.Now). It blocks until ctx is done, so a host runs it in its own
// goroutine. A failed sweep is passed to ErrorLog, if set, and retried at
// the next interval.
func (s *Store) RunJanitor(ctx context.Context, every time.Duration, now func() time.Time) {
	if every <= 0 {
		every = DefaultJanitorInterval
	}
	if now == nil {
		now = time.Now
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		if _, err := s.DeleteExpired(ctx, now()); err != nil && ctx.Err() == nil && s.ErrorLog != nil {
			s.ErrorLog(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
