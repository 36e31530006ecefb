// This file implements PasswordPolicyStore for the memory store.

package memstore

import (
	"context"

	"github.com/pbxauth/pbxauth/store"
)

var _ store.PasswordPolicyStore = (*Store)(nil)

// PasswordPolicy implements PasswordPolicyStore.
func (m *Store) PasswordPolicy(ctx context.Context, tenantID string) (store.PasswordPolicy, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	p, ok := m.policies[tenantID]
	if !ok {
		return store.PasswordPolicy{}, store.ErrNotFound
	}
	return p, nil
}

// PutPasswordPolicy implements PasswordPolicyStore.
func (m *Store) PutPasswordPolicy(ctx context.Context, p store.PasswordPolicy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.tenants[p.TenantID]; !ok {
		return store.ErrNotFound
	}
	if m.policies[p.TenantID].Version != p.Version {
		return store.ErrConflict
	}
	p.Version++
	if m.policies == nil {
		m.policies = map[string]store.PasswordPolicy{}
	}
	m.policies[p.TenantID] = p
	return nil
}
