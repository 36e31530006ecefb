// This file holds the memory store's SignInStore and UserFlagStore, the removal
// of a user's identity links, and the check of a user's tenant.

package memstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

var _ store.SignInStore = (*Store)(nil)

// liveFamily reports whether f is live at now.
func liveFamily(f store.Family, now time.Time) bool { return !f.Revoked && !expired(f.ExpiresAt, now) }

// TouchFamily implements SignInStore.
func (m *Store) TouchFamily(ctx context.Context, familyID string, now, staleBefore time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if f, ok := m.families[familyID]; ok && !f.LastUsedAt.After(staleBefore) {
		f.LastUsedAt = now
	}
	return nil
}

// Families implements SignInStore.
func (m *Store) Families(ctx context.Context, userID string, now time.Time) ([]store.Family, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	fs := []store.Family{}
	for _, f := range m.byUser[userID] {
		if liveFamily(f.Family, now) {
			fs = append(fs, f.Family)
		}
	}
	slices.SortFunc(fs, func(a, b store.Family) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	return fs, nil
}

// RevokeUserFamily implements SignInStore.
func (m *Store) RevokeUserFamily(ctx context.Context, userID, familyID string, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.families[familyID]
	if !ok || f.UserID != userID || !liveFamily(f.Family, now) {
		return store.ErrNotFound
	}
	f.Revoked = true
	return nil
}

// RevokeOtherFamilies implements SignInStore.
func (m *Store) RevokeOtherFamilies(ctx context.Context, userID, except string, now time.Time) ([]string, error) {
	return m.revokeLiveWhere(userID, now, func(f *memFamily) bool { return f.ID != except }), nil
}

// RevokeMethodFamilies implements SignInStore.
func (m *Store) RevokeMethodFamilies(ctx context.Context, userID, method string, now time.Time) ([]string, error) {
	return m.revokeLiveWhere(userID, now, func(f *memFamily) bool { return f.Method == method }), nil
}

// revokeLiveWhere revokes the user's live families at now that match and
// advances the user's epoch, under the lock, and returns their IDs.
func (m *Store) revokeLiveWhere(userID string, now time.Time, match func(*memFamily) bool) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := m.revokeWhereLocked(userID, now, match)
	m.advanceEpochLocked(userID)
	return ids
}

// revokeOthersLocked revokes every live family of the user at now but
// except and returns their IDs (empty when none); the caller holds m.mu.
func (m *Store) revokeOthersLocked(userID, except string, now time.Time) []string {
	return m.revokeWhereLocked(userID, now, func(f *memFamily) bool { return f.ID != except })
}

// revokeWhereLocked revokes every live family of the user at now that
// matches and returns their IDs (empty when none); the caller holds m.mu.
func (m *Store) revokeWhereLocked(userID string, now time.Time, match func(*memFamily) bool) []string {
	ids := []string{}
	for _, f := range m.liveOfLocked(userID, now) {
		if match(f) {
			f.Revoked = true
			ids = append(ids, f.ID)
		}
	}
	m.liveOfLocked(userID, now)
	return ids
}

// UnlinkUser implements Store.
func (m *Store) UnlinkUser(ctx context.Context, tenantID, userID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, id := range m.identities {
		if k.tenant == tenantID && id == userID {
			delete(m.identities, k)
		}
	}
	delete(m.linkedUsers, tenantUser{tenantID, userID})
	return nil
}

// validUserLocked applies User.Validate and refuses a user of a tenant that
// does not exist; the caller holds m.mu.
func (m *Store) validUserLocked(u store.User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	if _, ok := m.tenants[u.TenantID]; u.TenantID != "" && !ok {
		return fmt.Errorf("%w: user %q: no tenant %q", store.ErrInvalid, u.ID, u.TenantID)
	}
	return nil
}

// setUser changes the stored user with the given ID.
func (m *Store) setUser(userID string, change func(*store.User)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[userID]
	if !ok {
		return store.ErrNotFound
	}
	change(u)
	return nil
}

// SetUserDisabled implements UserFlagStore.
func (m *Store) SetUserDisabled(ctx context.Context, userID string, disabled bool) error {
	return m.setUser(userID, func(u *store.User) {
		if disabled {
			u.Epoch++
		}
		u.Disabled = disabled
	})
}

// SetPasswordForceReset implements UserFlagStore.
func (m *Store) SetPasswordForceReset(ctx context.Context, userID string, force bool) error {
	return m.setUser(userID, func(u *store.User) { u.PasswordForceReset = force })
}
