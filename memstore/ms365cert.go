// This file implements MS365CredentialStore for the memory store.

package memstore

import (
	"context"

	"github.com/pbxauth/pbxauth/store"
)

var _ store.MS365CredentialStore = (*Store)(nil)

// MS365Credentials implements MS365CredentialStore.
func (m *Store) MS365Credentials(ctx context.Context, tenantID string) (store.MS365Credentials, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	c, ok := m.msCredentials[tenantID]
	if !ok {
		return store.MS365Credentials{}, store.ErrNotFound
	}
	return c, nil
}

// ReplaceMS365Current implements MS365CredentialStore.
func (m *Store) ReplaceMS365Current(ctx context.Context, c store.MS365Credentials) error {
	if err := c.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.tenants[c.TenantID]; !ok {
		return store.ErrNotFound
	}
	stored, ok := m.msCredentials[c.TenantID]
	if stored.Version != c.Version {
		return store.ErrConflict
	}
	if ok {
		c.KnownGood = stored.KnownGood
	}
	c.Confirmed = false
	c.Version++
	if m.msCredentials == nil {
		m.msCredentials = map[string]store.MS365Credentials{}
	}
	m.msCredentials[c.TenantID] = c
	return nil
}

// ConfirmMS365Current implements MS365CredentialStore.
func (m *Store) ConfirmMS365Current(ctx context.Context, tenantID string, version int64) error {
	return m.changeMS365(tenantID, version, func(c *store.MS365Credentials) bool {
		c.KnownGood, c.Confirmed = c.Current, true
		return true
	})
}

// DropMS365KnownGood implements MS365CredentialStore.
func (m *Store) DropMS365KnownGood(ctx context.Context, tenantID string, version int64) error {
	return m.changeMS365(tenantID, version, func(c *store.MS365Credentials) bool {
		if c.Confirmed || c.KnownGood.IsZero() {
			return false
		}
		c.KnownGood = store.MS365Credential{}
		return true
	})
}

// changeMS365 applies change to the tenant's stored credentials of that
// version; ErrStale when there are none, of another version, or change
// declines.
func (m *Store) changeMS365(tenantID string, version int64, change func(*store.MS365Credentials) bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.msCredentials[tenantID]
	if !ok || c.Version != version || !change(&c) {
		return store.ErrStale
	}
	m.msCredentials[tenantID] = c
	return nil
}

// ForgetMS365Credentials implements MS365CredentialStore.
func (m *Store) ForgetMS365Credentials(ctx context.Context, tenantID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.msCredentials, tenantID)
	return nil
}
