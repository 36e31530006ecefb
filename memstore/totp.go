// This file implements TOTPStore for the memory store.

package memstore

import (
	"bytes"
	"context"
	"sync"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// memTOTP keeps the apps and recovery codes of the memory store under a lock
// of its own; a step that needs the store's lock too takes that first.
type memTOTP struct {
	mu    sync.Mutex
	apps  map[string]store.TOTP
	codes map[string]map[string]bool // user ID -> hash -> unused
}

var _ store.TOTPStore = (*Store)(nil)

func (m *memTOTP) init() {
	if m.apps == nil {
		m.apps, m.codes = map[string]store.TOTP{}, map[string]map[string]bool{}
	}
}

// PutPendingTOTP implements TOTPStore.
func (m *Store) PutPendingTOTP(ctx context.Context, t store.TOTP) error {
	s := &m.totp
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	if cur, ok := s.apps[t.UserID]; ok && cur.Active {
		return store.ErrConflict
	}
	t.Active, t.Secret = false, bytes.Clone(t.Secret)
	s.apps[t.UserID] = t
	return nil
}

// TOTP implements TOTPStore.
func (m *Store) TOTP(ctx context.Context, userID string) (store.TOTP, error) {
	s := &m.totp
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.apps[userID]
	if !ok {
		return store.TOTP{}, store.ErrNotFound
	}
	t.Secret = bytes.Clone(t.Secret)
	return t, nil
}

// atEpoch runs change under the lock of the apps while the user's epoch
// is epoch (ErrStale otherwise), holding the store's lock for reading
// meanwhile, so that no step that advances the epoch runs in between.
func (m *Store) atEpoch(userID string, epoch int64, change func(s *memTOTP) error) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if u, ok := m.users[userID]; ok && u.Epoch != epoch {
		return store.ErrStale
	}
	s := &m.totp
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	return change(s)
}

// ActivateTOTP implements TOTPStore.
func (m *Store) ActivateTOTP(ctx context.Context, userID string, epoch, step int64, hashes []string) error {
	return m.atEpoch(userID, epoch, func(s *memTOTP) error {
		t, ok := s.apps[userID]
		if !ok || t.Active {
			return store.ErrNotFound
		}
		t.Active, t.LastStep = true, step
		s.apps[userID] = t
		s.setCodes(userID, hashes)
		return nil
	})
}

func (s *memTOTP) setCodes(userID string, hashes []string) {
	set := map[string]bool{}
	for _, h := range hashes {
		set[h] = true
	}
	s.codes[userID] = set
}

// AcceptTOTPStep implements TOTPStore.
func (m *Store) AcceptTOTPStep(ctx context.Context, userID string, step int64) error {
	s := &m.totp
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.apps[userID]
	switch {
	case !ok || !t.Active:
		return store.ErrNotFound
	case step <= t.LastStep:
		return store.ErrConflict
	}
	t.LastStep = step
	s.apps[userID] = t
	return nil
}

// DeleteTOTP implements TOTPStore.
func (m *Store) DeleteTOTP(ctx context.Context, userID string) error {
	s := &m.totp
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.apps, userID)
	delete(s.codes, userID)
	return nil
}

// ReplaceRecoveryCodes implements TOTPStore.
func (m *Store) ReplaceRecoveryCodes(ctx context.Context, userID string, epoch int64, hashes []string) error {
	return m.atEpoch(userID, epoch, func(s *memTOTP) error {
		s.setCodes(userID, hashes)
		return nil
	})
}

// ConsumeRecoveryCode implements TOTPStore.
func (m *Store) ConsumeRecoveryCode(ctx context.Context, userID, hash string) error {
	s := &m.totp
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.codes[userID][hash] {
		return store.ErrNotFound
	}
	delete(s.codes[userID], hash)
	return nil
}

// RedeemRecoveryCode implements TOTPStore: the flow and the code are
// checked and removed under both locks.
func (m *Store) RedeemRecoveryCode(ctx context.Context, userID, hash string, h store.Hash, now time.Time) (store.Flow, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := &m.totp
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.codes[userID][hash] {
		return store.Flow{}, store.ErrNotFound
	}
	f, ok := m.flows[h]
	if !ok || f.Purpose != store.FlowTwoFactor || f.UserID != userID || expired(f.ExpiresAt, now) {
		return store.Flow{}, store.ErrStale
	}
	delete(s.codes[userID], hash)
	delete(m.flows, h)
	return f, nil
}
