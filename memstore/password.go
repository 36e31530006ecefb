// This file holds a user's change of their own password (the new hash,
// the new epoch, the end of every other sign-in and of every other known
// device, in one step; or, with no sign-in to keep, the end of every
// sign-in and device) and the rename of a user, which changes nothing
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
	if u.Epoch != epoch {
		return nil, store.ErrStale
	}
	// keep "" carries no sign-in over: every one ends, every device goes.
	var kept *memFamily
	if keep != "" {
		f, ok := m.families[keep]
		if !ok || f.UserID != userID || !liveFamily(f.Family, now) {
			return nil, store.ErrStale
		}
		kept = f
	}
	ids := m.revokeOthersLocked(userID, keep, now)
	u.PasswordHash = newHash
	u.PasswordForceReset = false
	m.advanceEpochLocked(userID)
	spare := ""
	if kept != nil {
		kept.Epoch = u.Epoch
		spare = kept.DeviceID
	}
	m.deleteDevicesLocked(userID, spare)
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
