// This file implements PasskeyStore for the memory store: passkeys and
// WebAuthn handles under the store's own lock, since adding and ending them
// reads and changes the user's epoch and sign-ins in the same step.

package memstore

import (
	"bytes"
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// memPasskeys keeps the passkeys and handles of the memory store; the
// caller holds m.mu.
type memPasskeys struct {
	byID    map[string]*store.Passkey
	byCred  map[string]string // string(credential ID) -> passkey ID
	handles map[string][]byte // user ID -> handle
	owners  map[string]string // string(handle) -> user ID
}

var _ store.PasskeyStore = (*Store)(nil)

func (s *memPasskeys) init() {
	if s.byID == nil {
		s.byID, s.byCred = map[string]*store.Passkey{}, map[string]string{}
		s.handles, s.owners = map[string][]byte{}, map[string]string{}
	}
}

// clonePasskey returns p with its slices copied, so that no caller shares
// the stored ones.
func clonePasskey(p store.Passkey) store.Passkey {
	p.CredentialID = bytes.Clone(p.CredentialID)
	p.PublicKey = bytes.Clone(p.PublicKey)
	p.AAGUID = bytes.Clone(p.AAGUID)
	p.Transports = slices.Clone(p.Transports)
	return p
}

// newestFirst orders passkeys by CreatedAt, then ID, descending.
func newestFirst(a, b store.Passkey) int {
	if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
		return c
	}
	return cmp.Compare(b.ID, a.ID)
}

// WebAuthnHandle implements PasskeyStore.
func (m *Store) WebAuthnHandle(ctx context.Context, userID string, newHandle []byte) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.users[userID]; !ok {
		return nil, store.ErrNotFound
	}
	s := &m.passkeys
	s.init()
	if h, ok := s.handles[userID]; ok {
		return bytes.Clone(h), nil
	}
	if _, ok := s.owners[string(newHandle)]; ok {
		return nil, store.ErrConflict
	}
	s.handles[userID] = bytes.Clone(newHandle)
	s.owners[string(newHandle)] = userID
	return bytes.Clone(newHandle), nil
}

// UserByWebAuthnHandle implements PasskeyStore.
func (m *Store) UserByWebAuthnHandle(ctx context.Context, handle []byte) (string, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	id, ok := m.passkeys.owners[string(handle)]
	if !ok {
		return "", store.ErrNotFound
	}
	return id, nil
}

// AddPasskey implements PasskeyStore.
func (m *Store) AddPasskey(ctx context.Context, p store.Passkey, epoch int64, familyID string, max int, now time.Time) error {
	if err := p.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[p.UserID]
	f, live := m.families[familyID]
	if !ok || u.Epoch != epoch || !live || f.UserID != p.UserID || !liveFamily(f.Family, now) {
		return store.ErrStale
	}
	s := &m.passkeys
	s.init()
	if _, ok := s.byCred[string(p.CredentialID)]; ok {
		return store.ErrConflict
	}
	if _, ok := s.byID[p.ID]; ok {
		return store.ErrConflict
	}
	n := 0
	for _, q := range s.byID {
		if q.UserID == p.UserID {
			n++
		}
	}
	if n >= max {
		return store.ErrLimit
	}
	p = clonePasskey(p)
	p.Disabled, p.DisabledReason, p.DisabledAt = false, "", time.Time{}
	s.byID[p.ID] = &p
	s.byCred[string(p.CredentialID)] = p.ID
	return nil
}

// PasskeyByCredentialID implements PasskeyStore.
func (m *Store) PasskeyByCredentialID(ctx context.Context, credentialID []byte) (store.Passkey, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	id, ok := m.passkeys.byCred[string(credentialID)]
	if !ok {
		return store.Passkey{}, store.ErrNotFound
	}
	return clonePasskey(*m.passkeys.byID[id]), nil
}

// Passkeys implements PasskeyStore.
func (m *Store) Passkeys(ctx context.Context, userID string) ([]store.Passkey, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.passkeysOfLocked(userID, time.Time{}), nil
}

// passkeysOfLocked returns the user's passkeys created at or after since,
// newest first; the caller holds m.mu.
func (m *Store) passkeysOfLocked(userID string, since time.Time) []store.Passkey {
	ps := []store.Passkey{}
	for _, p := range m.passkeys.byID {
		if p.UserID == userID && !p.CreatedAt.Before(since) {
			ps = append(ps, clonePasskey(*p))
		}
	}
	slices.SortFunc(ps, newestFirst)
	return ps
}

// RenamePasskey implements PasskeyStore.
func (m *Store) RenamePasskey(ctx context.Context, userID, id, name string) (store.Passkey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.passkeys.byID[id]
	if !ok || p.UserID != userID {
		return store.Passkey{}, store.ErrNotFound
	}
	p.Name = name
	return clonePasskey(*p), nil
}

// DeletePasskey implements PasskeyStore.
func (m *Store) DeletePasskey(ctx context.Context, userID, id string, now time.Time) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.passkeys.byID[id]
	if !ok || p.UserID != userID {
		return nil, store.ErrNotFound
	}
	m.deletePasskeyLocked(p)
	return m.revokeWhereLocked(userID, now, func(f *memFamily) bool { return f.PasskeyID == id }), nil
}

// deletePasskeyLocked forgets p; the caller holds m.mu.
func (m *Store) deletePasskeyLocked(p *store.Passkey) {
	delete(m.passkeys.byID, p.ID)
	delete(m.passkeys.byCred, string(p.CredentialID))
}

// usablePasskeyLocked returns the passkey id unless it is missing or
// disabled; the caller holds m.mu.
func (m *Store) usablePasskeyLocked(id string) (*store.Passkey, error) {
	p, ok := m.passkeys.byID[id]
	if !ok || p.Disabled {
		return nil, store.ErrNotFound
	}
	return p, nil
}

// UsePasskey implements PasskeyStore.
func (m *Store) UsePasskey(ctx context.Context, id string, signCount uint32, backupState bool, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, err := m.usablePasskeyLocked(id)
	if err != nil {
		return err
	}
	if signCount <= p.SignCount && (signCount != 0 || p.SignCount != 0) {
		return store.ErrStale
	}
	p.SignCount, p.BackupState, p.LastUsedAt = signCount, backupState, now
	return nil
}

// TouchPasskey implements PasskeyStore.
func (m *Store) TouchPasskey(ctx context.Context, id string, backupState bool, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, err := m.usablePasskeyLocked(id)
	if err != nil {
		return err
	}
	p.BackupState, p.LastUsedAt = backupState, now
	return nil
}

// DisablePasskey implements PasskeyStore.
func (m *Store) DisablePasskey(ctx context.Context, id, reason string, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.passkeys.byID[id]
	if !ok {
		return store.ErrNotFound
	}
	if !p.Disabled {
		p.Disabled, p.DisabledReason, p.DisabledAt = true, reason, now
	}
	return nil
}

// ResetPasskeys implements PasskeyStore.
func (m *Store) ResetPasskeys(ctx context.Context, userID string, now time.Time) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.users[userID]; !ok {
		return nil, store.ErrNotFound
	}
	m.deletePasskeysLocked(userID, time.Time{})
	ids := m.revokeWhereLocked(userID, now, func(*memFamily) bool { return true })
	m.advanceEpochLocked(userID)
	return ids, nil
}

// deletePasskeysLocked deletes the user's passkeys created at or after
// since and returns them, newest first; the caller holds m.mu.
func (m *Store) deletePasskeysLocked(userID string, since time.Time) []store.Passkey {
	ps := m.passkeysOfLocked(userID, since)
	for i := range ps {
		m.deletePasskeyLocked(&ps[i])
	}
	return ps
}

// ResetPasswordPasskeys implements PasskeyStore.
func (m *Store) ResetPasswordPasskeys(ctx context.Context, userID, newHash string, forceReset bool, since time.Time) ([]store.Passkey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.resetPasswordLocked(userID, newHash, forceReset); err != nil {
		return nil, err
	}
	if since.IsZero() {
		return []store.Passkey{}, nil
	}
	return m.deletePasskeysLocked(userID, since), nil
}

// passkeyGoneLocked reports whether f, a sign-in made with a passkey, must
// not be stored: the passkey is missing, another user's or disabled; the
// caller holds m.mu.
func (m *Store) passkeyGoneLocked(f store.Family) bool {
	if f.PasskeyID == "" {
		return false
	}
	p, err := m.usablePasskeyLocked(f.PasskeyID)
	return err != nil || p.UserID != f.UserID
}
