// This file keeps sign-ins (token families) and their access and refresh
// tokens: issuing, the Grant behind every authenticated request, refresh
// rotation and revocation.

package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// execer is a *sql.DB or *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// grantFrom finds the token with hash $1 and kind $2 that is live at $3, with
// its live family and enabled user.
const grantFrom = ` FROM pbxauth_tokens t
	JOIN pbxauth_families f ON f.id = t.family_id
	JOIN pbxauth_users u ON u.id = f.user_id
	WHERE t.hash = $1 AND t.kind = $2 AND t.expires_at > $3
		AND f.revoked = FALSE AND f.expires_at > $3 AND u.disabled = FALSE`

var (
	// grantQuery reads a Grant in one query (grantrow.go); New prepares it.
	grantQuery = func() string {
		cols, _ := grantColumns(&store.Grant{})
		return `SELECT ` + strings.Join(cols, ", ") + grantFrom
	}()
	// markUsedQuery marks the token of grantFrom used at $4 if it is still
	// fresh (used at $5, the zero time), and erases its grace seed ($6,
	// empty): the one step in which concurrent rotations of a refresh
	// token, in any process, find one winner.
	markUsedQuery = `UPDATE pbxauth_tokens SET used_at = $4, grace_seed = $6
		WHERE hash = $1 AND used_at = $5 AND hash IN (SELECT t.hash` + grantFrom + `)`
	// successorQuery finds the unused refresh token that the rotation of
	// $1 issued, while its grace seed is kept and its window ($3: now) open.
	successorQuery = `SELECT ` + tokenCols + ` FROM pbxauth_tokens
		WHERE parent = $1 AND length(grace_seed) > 0 AND kind = $2 AND used_at = $4 AND grace_until > $3`
)

// insertTokens adds tokens; a hash that exists fails with a unique violation.
func insertTokens(ctx context.Context, db execer, tokens ...store.Token) error {
	for _, t := range tokens {
		_, err := db.ExecContext(ctx, `INSERT INTO pbxauth_tokens (`+tokenCols+`) VALUES (`+placeholders(8)+`)`, tokenArgs(t)...)
		if err != nil {
			return err
		}
	}
	return nil
}

// revokeUser revokes every family of the user.
func revokeUser(ctx context.Context, db execer, userID string) error {
	_, err := db.ExecContext(ctx, `UPDATE pbxauth_families SET revoked = TRUE WHERE user_id = $1 AND revoked = FALSE`, userID)
	return err
}

// advanceEpoch moves the user's sign-in epoch on. It runs first in the
// transactions that end a user's sign-ins: the user's row is then locked
// until they commit, so a CreateFamily or CreateFlow of that user waits
// for them and compares with the new epoch.
func advanceEpoch(ctx context.Context, db execer, userID string) error {
	_, err := db.ExecContext(ctx, `UPDATE pbxauth_users SET epoch = epoch + 1 WHERE id = $1`, userID)
	return err
}

// epochStill reads within tx whether the user's epoch is still epoch, and
// is ErrStale when it is not; a user that does not exist has no epoch to
// compare. On PostgreSQL the read locks the user's row (mode "SHARE" or
// "UPDATE") until tx ends: a step that advances the epoch writes that row
// first, so either it waits for tx, or tx for it and then reads the epoch
// it committed.
func (s *Store) epochStill(ctx context.Context, tx *sql.Tx, userID string, epoch int64, mode string) error {
	var cur int64
	err := tx.QueryRowContext(ctx, `SELECT epoch FROM pbxauth_users WHERE id = $1`+s.lockRow(mode), userID).Scan(&cur)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err == nil && cur != epoch:
		return store.ErrStale
	}
	return err
}

// CreateFamily implements store.Store. One transaction reads the user's
// epoch (locking the user's row on PostgreSQL, so sign-ins of one user and
// the steps that end them take turns), evicts the least recently used
// sign-ins beyond maxLive, and stores the family and its tokens: on a
// conflict or a stale epoch, nothing is.
func (s *Store) CreateFamily(ctx context.Context, f store.Family, maxLive int, tokens ...store.Token) ([]string, error) {
	if err := f.Validate(tokens...); err != nil {
		return nil, err
	}
	var evicted []string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		evicted = nil
		err := s.epochStill(ctx, tx, f.UserID, f.Epoch, "UPDATE")
		if err != nil {
			return err
		}
		if err := s.passkeyStill(ctx, tx, f); err != nil {
			return err
		}
		if maxLive > 0 {
			if evicted, err = evict(ctx, tx, f.UserID, micros(f.CreatedAt), maxLive); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO pbxauth_families (`+familyCols+`) VALUES (`+placeholders(strings.Count(familyCols, ",")+1)+`)`,
			familyArgs(f)...)
		if err != nil {
			return err
		}
		return insertTokens(ctx, tx, tokens...)
	})
	for _, id := range evicted {
		s.grants.forgetFamily(id)
	}
	if err != nil {
		return nil, storeErr("create family", err)
	}
	return evicted, nil
}

// evict revokes the user's least recently used live sign-ins at now so
// that one more leaves at most maxLive, and returns their IDs. It counts
// first, so a user below the bound costs one indexed count.
func evict(ctx context.Context, tx *sql.Tx, userID string, now int64, maxLive int) ([]string, error) {
	var live int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM pbxauth_families WHERE user_id = $1 AND `+liveFamily+`$2`,
		userID, now).Scan(&live)
	if err != nil || live < maxLive {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `UPDATE pbxauth_families SET revoked = TRUE WHERE id IN (
		SELECT id FROM pbxauth_families WHERE user_id = $1 AND `+liveFamily+`$2
		ORDER BY last_used_at, created_at, id LIMIT $3) RETURNING id`, userID, now, live+1-maxLive)
	if err != nil {
		return nil, err
	}
	return scanIDs(rows)
}

// scanIDs reads and closes rows of one text column.
func scanIDs(rows *sql.Rows) ([]string, error) {
	defer rows.Close()
	ids := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// AddToken implements store.Store.
func (s *Store) AddToken(ctx context.Context, t store.Token, now time.Time) error {
	if err := t.Validate(); err != nil {
		return err
	}
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM pbxauth_families WHERE id = $1 AND revoked = FALSE AND expires_at > $2`,
		t.FamilyID, micros(now)).Scan(&one)
	if err == nil {
		err = insertTokens(ctx, s.db, t)
		if isForeignKeyViolation(err) {
			// The family was swept since: it had expired.
			err = store.ErrNotFound
		}
	}
	return storeErr("add token", err)
}

// Grant implements store.Store, in one prepared query, or from the grant
// cache (Options.GrantCache).
func (s *Store) Grant(ctx context.Context, h store.Hash, kind store.TokenKind, now time.Time) (store.Grant, error) {
	cached, fill, ok := s.grants.lookup(h, kind, now)
	if ok {
		return cached, nil
	}
	g, err := scanGrant(s.grant.QueryRowContext(s.readContext(ctx), h[:], int64(kind), micros(now)), h, kind)
	fill.put(g, err, now)
	return g, storeErr("grant", err)
}

// readContext is the context of the Grant query, the read of every
// authenticated request. On SQLite it is ctx without its cancellation: the
// query takes microseconds, and a WAL reader waits for no writer, while a
// context that can be cancelled makes database/sql and the driver each
// start a goroutine to watch it, per query, which costs more than the query
// (BENCHMARKS.md, "SQLite"). On PostgreSQL a query crosses the network, and
// a request that is given up on should give up its query too.
func (s *Store) readContext(ctx context.Context) context.Context {
	if s.dialect == SQLite {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// RotateRefresh implements store.Store. In one transaction it marks h used
// if it is still fresh, which the database grants to one caller only, reads
// the grant, and adds next to h's family (whatever their FamilyID says); a
// conflict on next rolls the mark back.
func (s *Store) RotateRefresh(ctx context.Context, h store.Hash, now time.Time, next ...store.Token) (store.Grant, error) {
	var g store.Grant
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		n, err := affected(tx.ExecContext(ctx, markUsedQuery,
			h[:], int64(store.RefreshToken), micros(now), micros(now), zeroMicros, []byte{}))
		if err != nil {
			return err
		}
		g, err = scanGrant(tx.StmtContext(ctx, s.grant).QueryRowContext(ctx, h[:], int64(store.RefreshToken), micros(now)), h, store.RefreshToken)
		if err != nil {
			return err
		}
		if n == 0 && g.Token.UsedAt.IsZero() {
			// Fresh now, but not when marking: on PostgreSQL the two
			// statements see different commits, and the user may have
			// been enabled in between. Refuse as the mark did; calling
			// it reuse would revoke a sign-in for nothing.
			return store.ErrNotFound
		}
		if n == 0 {
			err := tx.QueryRowContext(ctx, successorQuery, h[:], int64(store.RefreshToken), micros(now), zeroMicros).
				Scan(tokenDest(&g.Successor)...)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			return store.ErrTokenReused // rolls back nothing: nothing was changed
		}
		g.Token.UsedAt = time.Time{} // the grant of h as presented, before this rotation
		own := make([]store.Token, len(next))
		for i, t := range next {
			t.FamilyID = g.Family.ID // the caller does not know it
			own[i] = t
		}
		return insertTokens(ctx, tx, own...)
	})
	if errors.Is(err, store.ErrTokenReused) {
		return g, err
	}
	if err != nil {
		return store.Grant{}, storeErr("rotate refresh", err)
	}
	return g, nil
}

// RevokeFamily implements store.Store.
func (s *Store) RevokeFamily(ctx context.Context, familyID string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE pbxauth_families SET revoked = TRUE WHERE id = $1`, familyID)
	s.grants.forgetFamily(familyID)
	return storeErr("revoke family", err)
}

// RevokeUser implements store.Store: the epoch and the revocation in one
// transaction, the user's row first.
func (s *Store) RevokeUser(ctx context.Context, userID string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := advanceEpoch(ctx, tx, userID); err != nil {
			return err
		}
		return revokeUser(ctx, tx, userID)
	})
	s.grants.forgetUser(userID)
	return storeErr("revoke user", err)
}
