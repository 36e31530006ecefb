// This file keeps Microsoft bindings and sign-in rules
// (store.MicrosoftBindingStore). A binding is written in one transaction
// with the removal of the user's links; the unique key (tenant_id,
// bind_key) decides a race of two users for one account, and the user's
// row, locked first, a race of two bindings of one user. Rules are
// versioned as password policies are.

package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/pbxauth/pbxauth/store"
)

var _ store.MicrosoftBindingStore = (*Store)(nil)

// BindMicrosoft implements store.MicrosoftBindingStore.
func (s *Store) BindMicrosoft(ctx context.Context, b store.MicrosoftBinding) error {
	if err := b.Validate(); err != nil {
		return err
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var tenantID string
		err := tx.QueryRowContext(ctx, `SELECT tenant_id FROM pbxauth_users WHERE id = $1`+s.lockRow("UPDATE"), b.UserID).Scan(&tenantID)
		switch {
		case err != nil:
			return err
		case tenantID != b.TenantID:
			return store.ErrNotFound
		}
		var held int
		err = tx.QueryRowContext(ctx, `SELECT count(*) FROM pbxauth_identities WHERE tenant_id = $1 AND subject = $2 AND user_id <> $3`,
			b.TenantID, b.Key, b.UserID).Scan(&held)
		switch {
		case err != nil:
			return err
		case held > 0:
			return store.ErrConflict
		}
		if err := unbind(ctx, tx, b.TenantID, b.UserID, nil); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO pbxauth_ms365_bindings (user_id, tenant_id, bind_key) VALUES ($1, $2, $3)`,
			b.UserID, b.TenantID, b.Key)
		return err
	})
	return storeErr("bind Microsoft account", err)
}

// unbind removes, within tx, the user's binding and links in the tenant,
// and sets *had (when not nil) to whether there was a binding.
func unbind(ctx context.Context, tx *sql.Tx, tenantID, userID string, had *bool) error {
	n, err := affected(tx.ExecContext(ctx, `DELETE FROM pbxauth_ms365_bindings WHERE tenant_id = $1 AND user_id = $2`, tenantID, userID))
	if err != nil {
		return err
	}
	if had != nil {
		*had = n > 0
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM pbxauth_identities WHERE tenant_id = $1 AND user_id = $2`, tenantID, userID)
	return err
}

// UnbindMicrosoft implements store.MicrosoftBindingStore.
func (s *Store) UnbindMicrosoft(ctx context.Context, tenantID, userID string) (bool, error) {
	var had bool
	err := s.inTx(ctx, func(tx *sql.Tx) error { return unbind(ctx, tx, tenantID, userID, &had) })
	return had, storeErr("unbind Microsoft account", err)
}

// MicrosoftBinding implements store.MicrosoftBindingStore.
func (s *Store) MicrosoftBinding(ctx context.Context, tenantID, key string) (store.MicrosoftBinding, error) {
	b := store.MicrosoftBinding{TenantID: tenantID, Key: key}
	err := s.db.QueryRowContext(ctx, `SELECT user_id FROM pbxauth_ms365_bindings WHERE tenant_id = $1 AND bind_key = $2`,
		tenantID, key).Scan(&b.UserID)
	return b, storeErr("Microsoft binding", err)
}

// UserMicrosoftBinding implements store.MicrosoftBindingStore.
func (s *Store) UserMicrosoftBinding(ctx context.Context, tenantID, userID string) (store.MicrosoftBinding, error) {
	b := store.MicrosoftBinding{TenantID: tenantID, UserID: userID}
	err := s.db.QueryRowContext(ctx, `SELECT bind_key FROM pbxauth_ms365_bindings WHERE tenant_id = $1 AND user_id = $2`,
		tenantID, userID).Scan(&b.Key)
	return b, storeErr("user's Microsoft binding", err)
}

// ResetMicrosoft implements store.MicrosoftBindingStore: two DELETE ...
// RETURNING in one transaction.
func (s *Store) ResetMicrosoft(ctx context.Context, tenantID string) (store.MicrosoftReset, error) {
	var r store.MicrosoftReset
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		r = store.MicrosoftReset{}
		seen := map[string]bool{}
		for _, q := range []struct {
			sql string
			n   *int
		}{
			{`DELETE FROM pbxauth_identities WHERE tenant_id = $1 RETURNING user_id`, &r.Links},
			{`DELETE FROM pbxauth_ms365_bindings WHERE tenant_id = $1 RETURNING user_id`, &r.Bindings},
		} {
			rows, err := tx.QueryContext(ctx, q.sql, tenantID)
			if err != nil {
				return err
			}
			ids, err := scanIDs(rows)
			if err != nil {
				return err
			}
			*q.n = len(ids)
			for _, id := range ids {
				if !seen[id] {
					seen[id] = true
					r.UserIDs = append(r.UserIDs, id)
				}
			}
		}
		return nil
	})
	if err != nil {
		return store.MicrosoftReset{}, storeErr("reset Microsoft links", err)
	}
	return r, nil
}

// MicrosoftRules implements store.MicrosoftBindingStore.
func (s *Store) MicrosoftRules(ctx context.Context, tenantID string) (store.MicrosoftRules, error) {
	r := store.MicrosoftRules{TenantID: tenantID}
	var admin, standard string
	err := s.db.QueryRowContext(ctx, `SELECT admin_enabled, admin_sync_type, admin_selected,
		standard_enabled, standard_sync_type, standard_selected, version FROM pbxauth_ms365_rules WHERE tenant_id = $1`, tenantID).
		Scan(&r.Administrator.Enabled, &r.Administrator.SyncType, &admin,
			&r.StandardUser.Enabled, &r.StandardUser.SyncType, &standard, &r.Version)
	if err != nil {
		return store.MicrosoftRules{}, storeErr("Microsoft rules", err)
	}
	for _, sel := range []struct {
		raw string
		to  *[]string
	}{{admin, &r.Administrator.SelectedUsers}, {standard, &r.StandardUser.SelectedUsers}} {
		if err := json.Unmarshal([]byte(sel.raw), sel.to); err != nil {
			return store.MicrosoftRules{}, storeErr("Microsoft rules", err)
		}
		if len(*sel.to) == 0 {
			*sel.to = nil
		}
	}
	return r, nil
}

// PutMicrosoftRules implements store.MicrosoftBindingStore.
func (s *Store) PutMicrosoftRules(ctx context.Context, r store.MicrosoftRules) error {
	if err := r.Validate(); err != nil {
		return err
	}
	selected := func(s []string) string {
		if s == nil {
			s = []string{}
		}
		b, _ := json.Marshal(s) // strings always encode
		return string(b)
	}
	args := []any{r.TenantID, r.Administrator.Enabled, r.Administrator.SyncType, selected(r.Administrator.SelectedUsers),
		r.StandardUser.Enabled, r.StandardUser.SyncType, selected(r.StandardUser.SelectedUsers), r.Version + 1}
	return s.putVersioned(ctx, "put Microsoft rules", r.TenantID, r.Version,
		`UPDATE pbxauth_ms365_rules SET admin_enabled = $2, admin_sync_type = $3,
		admin_selected = $4, standard_enabled = $5, standard_sync_type = $6, standard_selected = $7, version = $8
		WHERE tenant_id = $1 AND version = $9`, append(args, r.Version),
		`INSERT INTO pbxauth_ms365_rules (tenant_id, admin_enabled, admin_sync_type,
		admin_selected, standard_enabled, standard_sync_type, standard_selected, version)
		SELECT id, $2, $3, $4, $5, $6, $7, $8 FROM pbxauth_tenants WHERE id = $1
		ON CONFLICT (tenant_id) DO NOTHING`, args)
}

// LinkUnbound implements store.MicrosoftBindingStore: in one transaction
// that first reads the user's row (FOR SHARE on PostgreSQL, which a
// binding's FOR UPDATE waits for, and which waits for a binding in
// progress), the link is inserted only while the user has no binding.
func (s *Store) LinkUnbound(ctx context.Context, id store.Identity) error {
	if err := id.Validate(); err != nil {
		return err
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var userID string
		err := tx.QueryRowContext(ctx, `SELECT id FROM pbxauth_users WHERE id = $1`+s.lockRow("SHARE"), id.UserID).Scan(&userID)
		if err != nil && !errors.Is(err, sql.ErrNoRows) { // no user: LinkIdentity's rules
			return err
		}
		var bound int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM pbxauth_ms365_bindings WHERE tenant_id = $1 AND user_id = $2`,
			id.TenantID, id.UserID).Scan(&bound); err != nil {
			return err
		}
		if bound > 0 {
			return store.ErrStale
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO pbxauth_identities (tenant_id, issuer, subject, user_id) VALUES ($1, $2, $3, $4)`,
			id.TenantID, id.Issuer, id.Subject, id.UserID)
		return err
	})
	return storeErr("link unbound identity", err)
}
