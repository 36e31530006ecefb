// This file lists tenants and users a page at a time (store.DirectoryLister).

package memstore

import (
	"context"
	"slices"
	"strings"

	"github.com/pbxauth/pbxauth/internal/asciifold"
	"github.com/pbxauth/pbxauth/store"
)

var _ store.DirectoryLister = (*Store)(nil)

// page returns at most limit of recs whose key sorts after the folded
// after, in key order.
func page[T any](recs []T, key func(T) string, after string, limit int) []T {
	after = asciifold.Lower(after)
	recs = slices.DeleteFunc(recs, func(r T) bool { return key(r) <= after })
	slices.SortFunc(recs, func(a, b T) int { return strings.Compare(key(a), key(b)) })
	return recs[:min(len(recs), max(limit, 0))]
}

// Tenants implements store.DirectoryLister.
func (m *Store) Tenants(ctx context.Context, after string, limit int) ([]store.Tenant, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	all := make([]store.Tenant, 0, len(m.tenants))
	for _, t := range m.tenants {
		all = append(all, cloneTenant(t))
	}
	return page(all, func(t store.Tenant) string { return asciifold.Lower(t.Domain) }, after, limit), nil
}

// Users implements store.DirectoryLister.
func (m *Store) Users(ctx context.Context, tenantID, after string, limit int) ([]store.User, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	all := []store.User{}
	for _, u := range m.users {
		if u.TenantID == tenantID {
			all = append(all, *u)
		}
	}
	return page(all, func(u store.User) string { return asciifold.Lower(u.Username) }, after, limit), nil
}
