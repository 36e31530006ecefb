// This file implements MicrosoftBindingStore for the memory store. Its
// records live under the store's one lock, as the links they replace do,
// so a binding and the links it removes change in one step.

package memstore

import (
	"context"
	"slices"

	"github.com/pbxauth/pbxauth/store"
)

var _ store.MicrosoftBindingStore = (*Store)(nil)

// memBindings are the Microsoft bindings and rules.
type memBindings struct {
	byUser map[tenantUser]string           // -> key
	byKey  map[tenantKey]string            // -> user ID
	rules  map[string]store.MicrosoftRules // by tenant ID
}

// tenantKey is a binding key of a tenant.
type tenantKey struct{ tenant, key string }

// init makes the maps on first use; the caller holds m.mu for writing.
func (b *memBindings) init() {
	if b.byUser == nil {
		b.byUser, b.byKey, b.rules = map[tenantUser]string{}, map[tenantKey]string{}, map[string]store.MicrosoftRules{}
	}
}

// BindMicrosoft implements MicrosoftBindingStore.
func (m *Store) BindMicrosoft(ctx context.Context, b store.MicrosoftBinding) error {
	if err := b.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if u, ok := m.users[b.UserID]; !ok || u.TenantID != b.TenantID {
		return store.ErrNotFound
	}
	if holder, ok := m.bindings.byKey[tenantKey{b.TenantID, b.Key}]; ok && holder != b.UserID {
		return store.ErrConflict
	}
	for k, id := range m.identities {
		if k.tenant == b.TenantID && k.subject == b.Key && id != b.UserID {
			return store.ErrConflict
		}
	}
	m.bindings.init()
	m.unbindLocked(b.TenantID, b.UserID)
	m.bindings.byUser[tenantUser{b.TenantID, b.UserID}] = b.Key
	m.bindings.byKey[tenantKey{b.TenantID, b.Key}] = b.UserID
	return nil
}

// unbindLocked removes the user's binding and links in the tenant and
// reports whether there was a binding; the caller holds m.mu for writing.
func (m *Store) unbindLocked(tenantID, userID string) bool {
	for k, id := range m.identities {
		if k.tenant == tenantID && id == userID {
			delete(m.identities, k)
		}
	}
	delete(m.linkedUsers, tenantUser{tenantID, userID})
	key, ok := m.bindings.byUser[tenantUser{tenantID, userID}]
	if ok {
		delete(m.bindings.byUser, tenantUser{tenantID, userID})
		delete(m.bindings.byKey, tenantKey{tenantID, key})
	}
	return ok
}

// LinkUnbound implements MicrosoftBindingStore.
func (m *Store) LinkUnbound(ctx context.Context, id store.Identity) error {
	if err := id.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.bindings.byUser[tenantUser{id.TenantID, id.UserID}]; ok {
		return store.ErrStale
	}
	return m.linkLocked(id)
}

// UnbindMicrosoft implements MicrosoftBindingStore.
func (m *Store) UnbindMicrosoft(ctx context.Context, tenantID, userID string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.unbindLocked(tenantID, userID), nil
}

// MicrosoftBinding implements MicrosoftBindingStore.
func (m *Store) MicrosoftBinding(ctx context.Context, tenantID, key string) (store.MicrosoftBinding, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	id, ok := m.bindings.byKey[tenantKey{tenantID, key}]
	if !ok {
		return store.MicrosoftBinding{}, store.ErrNotFound
	}
	return store.MicrosoftBinding{TenantID: tenantID, UserID: id, Key: key}, nil
}

// UserMicrosoftBinding implements MicrosoftBindingStore.
func (m *Store) UserMicrosoftBinding(ctx context.Context, tenantID, userID string) (store.MicrosoftBinding, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	key, ok := m.bindings.byUser[tenantUser{tenantID, userID}]
	if !ok {
		return store.MicrosoftBinding{}, store.ErrNotFound
	}
	return store.MicrosoftBinding{TenantID: tenantID, UserID: userID, Key: key}, nil
}

// ResetMicrosoft implements MicrosoftBindingStore.
func (m *Store) ResetMicrosoft(ctx context.Context, tenantID string) (store.MicrosoftReset, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var r store.MicrosoftReset
	seen := func(id string) {
		if !slices.Contains(r.UserIDs, id) {
			r.UserIDs = append(r.UserIDs, id)
		}
	}
	for k, id := range m.identities {
		if k.tenant == tenantID {
			delete(m.identities, k)
			delete(m.linkedUsers, tenantUser{tenantID, id})
			r.Links++
			seen(id)
		}
	}
	for tu, key := range m.bindings.byUser {
		if tu.tenant == tenantID {
			delete(m.bindings.byUser, tu)
			delete(m.bindings.byKey, tenantKey{tenantID, key})
			r.Bindings++
			seen(tu.user)
		}
	}
	return r, nil
}

// MicrosoftRules implements MicrosoftBindingStore.
func (m *Store) MicrosoftRules(ctx context.Context, tenantID string) (store.MicrosoftRules, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r, ok := m.bindings.rules[tenantID]
	if !ok {
		return store.MicrosoftRules{}, store.ErrNotFound
	}
	return cloneRules(r), nil
}

// PutMicrosoftRules implements MicrosoftBindingStore.
func (m *Store) PutMicrosoftRules(ctx context.Context, r store.MicrosoftRules) error {
	if err := r.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.tenants[r.TenantID]; !ok {
		return store.ErrNotFound
	}
	if m.bindings.rules[r.TenantID].Version != r.Version {
		return store.ErrConflict
	}
	m.bindings.init()
	r.Version++
	m.bindings.rules[r.TenantID] = cloneRules(r)
	return nil
}

// cloneRules copies r's selections, so that neither the caller nor the
// store sees the other change them; an empty selection is nil.
func cloneRules(r store.MicrosoftRules) store.MicrosoftRules {
	clone := func(s []string) []string {
		if len(s) == 0 {
			return nil
		}
		return slices.Clone(s)
	}
	r.Administrator.SelectedUsers = clone(r.Administrator.SelectedUsers)
	r.StandardUser.SelectedUsers = clone(r.StandardUser.SelectedUsers)
	return r
}
