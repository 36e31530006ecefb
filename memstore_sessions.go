// This file holds MemoryStore's SignInStore and UserFlagStore, the removal
// of a user's identity links, and the check of a user's tenant.

package pbxauth

import (
	"cmp"
	"context"
	"slices"
	"time"
)

var _ SignInStore = (*MemoryStore)(nil)

// liveFamily reports whether f is live at now.
func liveFamily(f Family, now time.Time) bool { return !f.Revoked && !expired(f.ExpiresAt, now) }

// TouchFamily implements SignInStore.
func (m *MemoryStore) TouchFamily(ctx context.Context, familyID string, now, staleBefore time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if f, ok := m.families[familyID]; ok && !f.LastUsedAt.After(staleBefore) {
		f.LastUsedAt = now
	}
	return nil
}

// Families implements SignInStore.
func (m *MemoryStore) Families(ctx context.Context, userID string, now time.Time) ([]Family, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	fs := []Family{}
	for _, f := range m.byUser[userID] {
		if liveFamily(f.Family, now) {
			fs = append(fs, f.Family)
		}
	}
	slices.SortFunc(fs, func(a, b Family) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	return fs, nil
}

// RevokeUserFamily implements SignInStore.
func (m *MemoryStore) RevokeUserFamily(ctx context.Context, userID, familyID string, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.families[familyID]
	if !ok || f.UserID != userID || !liveFamily(f.Family, now) {
		return ErrNotFound
	}
	f.Revoked = true
	return nil
}

// RevokeOtherFamilies implements SignInStore.
func (m *MemoryStore) RevokeOtherFamilies(ctx context.Context, userID, except string, now time.Time) ([]string, error) {
	return m.revokeLiveWhere(userID, now, func(f *memFamily) bool { return f.ID != except }), nil
}

// RevokeMethodFamilies implements SignInStore.
func (m *MemoryStore) RevokeMethodFamilies(ctx context.Context, userID, method string, now time.Time) ([]string, error) {
	return m.revokeLiveWhere(userID, now, func(f *memFamily) bool { return f.Method == method }), nil
}

// revokeLiveWhere revokes the user's live families at now that match and
// advances the user's epoch, under the lock, and returns their IDs.
func (m *MemoryStore) revokeLiveWhere(userID string, now time.Time, match func(*memFamily) bool) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := []string{}
	for _, f := range m.liveOfLocked(userID, now) {
		if match(f) {
			f.Revoked = true
			ids = append(ids, f.ID)
		}
	}
	m.liveOfLocked(userID, now)
	m.advanceEpochLocked(userID)
	return ids
}

// UnlinkUser implements Store.
func (m *MemoryStore) UnlinkUser(ctx context.Context, tenantID, userID string) error {
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
func (m *MemoryStore) validUserLocked(u User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	if _, ok := m.tenants[u.TenantID]; u.TenantID != "" && !ok {
		return invalidf("user %q: no tenant %q", u.ID, u.TenantID)
	}
	return nil
}

// setUser changes the stored user with the given ID.
func (m *MemoryStore) setUser(userID string, change func(*User)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[userID]
	if !ok {
		return ErrNotFound
	}
	change(u)
	return nil
}

// SetUserDisabled implements UserFlagStore.
func (m *MemoryStore) SetUserDisabled(ctx context.Context, userID string, disabled bool) error {
	return m.setUser(userID, func(u *User) {
		if disabled {
			u.Epoch++
		}
		u.Disabled = disabled
	})
}

// SetPasswordForceReset implements UserFlagStore.
func (m *MemoryStore) SetPasswordForceReset(ctx context.Context, userID string, force bool) error {
	return m.setUser(userID, func(u *User) { u.PasswordForceReset = force })
}
