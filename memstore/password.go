// This file holds a user's change of their own password (the new hash,
// the new epoch, the end of every other sign-in and of every other known
// device, in one step) and the rename of a user, which changes nothing
// else.

package memstore

import (
	"context"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// ChangePassword implements Store.
func (m *Store) ChangePassword(ctx context.Context, userID string, epoch int64, keep, newHash string, now time.Time) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[userID]
	if !ok {
		return nil, store.ErrNotFound
	}
	kept, ok := m.families[keep]
	if u.Epoch != epoch || !ok || kept.UserID != userID || !liveFamily(kept.Family, now) {
		return nil, store.ErrStale
	}
	ids := m.revokeOthersLocked(userID, keep, now)
	u.PasswordHash = newHash
	u.PasswordForceReset = false
	m.advanceEpochLocked(userID)
	kept.Epoch = u.Epoch
	m.deleteDevicesLocked(userID, kept.DeviceID)
	return ids, nil
}

// SetUsername implements Store.
func (m *Store) SetUsername(ctx context.Context, userID, username string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[userID]
	if !ok {
		return store.ErrNotFound
	}
	k := usernameKey(u.TenantID, username)
	if id, ok := m.usernames[k]; ok && id != userID {
		return store.ErrConflict
	}
	delete(m.usernames, usernameKey(u.TenantID, u.Username))
	m.usernames[k] = userID
	u.Username = username
	return nil
}
