// This file holds MemoryStore, the reference Store: everything in maps under
// one lock. It is what storetest is checked against first, the default of the
// example server, and a fine choice for tests and single-process hosts that
// may forget every sign-in on restart.

package pbxauth

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/pbxauth/pbxauth/internal/asciifold"
)

// MemoryStore is an in-memory Store. The zero value is not usable; create one
// with NewMemoryStore. It is safe for concurrent use.
type MemoryStore struct {
	mu          sync.RWMutex
	system      System
	tenants     map[string]Tenant // by ID
	domains     map[string]string // lower(domain) -> tenant ID
	users       map[string]*User  // by ID; a user is changed in place, never removed
	usernames   map[string]string // tenantID + "\x00" + lower(username) -> user ID
	families    map[string]*memFamily
	tokens      map[Hash]*memToken
	flows       map[Hash]Flow
	counters    map[string]Counter
	identities  map[identityKey]string // -> user ID
	linkedUsers map[tenantUser]bool
	totp        memTOTP // authenticator apps, under a lock of their own
	devices     map[Hash]Device
	successors  map[Hash]Hash // parent -> the refresh token its rotation issued with a grace seed
	// byUser indexes the sign-ins by user; those revoked or expired are
	// dropped from it lazily (liveOfLocked) and by DeleteExpired.
	byUser map[string][]*memFamily

	*memoryOutbox // its own lock: mail workers never wait for token checks

	useOnce memUseOnce // uses of sealed states, under a lock of their own
}

var (
	_ Store   = (*MemoryStore)(nil)
	_ Sweeper = (*MemoryStore)(nil)
	_ Outbox  = (*MemoryStore)(nil)
)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{
		tenants:     map[string]Tenant{},
		domains:     map[string]string{},
		users:       map[string]*User{},
		usernames:   map[string]string{},
		families:    map[string]*memFamily{},
		tokens:      map[Hash]*memToken{},
		flows:       map[Hash]Flow{},
		counters:    map[string]Counter{},
		identities:  map[identityKey]string{},
		linkedUsers: map[tenantUser]bool{},
		devices:     map[Hash]Device{},
		successors:  map[Hash]Hash{},
		byUser:      map[string][]*memFamily{},

		memoryOutbox: newMemoryOutbox(),
	}
}

func expired(expiresAt, now time.Time) bool { return !now.Before(expiresAt) }

func usernameKey(tenantID, username string) string {
	return tenantID + "\x00" + asciifold.Lower(username)
}

func cloneTenant(t Tenant) Tenant {
	if t.MS365 != nil {
		m := *t.MS365
		t.MS365 = &m
	}
	return t
}

// System implements Store.
func (m *MemoryStore) System(ctx context.Context) (System, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.system, nil
}

// PutSystem implements Store.
func (m *MemoryStore) PutSystem(ctx context.Context, s System) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.system = s
	return nil
}

// CreateTenant implements Store.
func (m *MemoryStore) CreateTenant(ctx context.Context, t Tenant) error {
	if err := t.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	d := asciifold.Lower(t.Domain)
	if _, ok := m.tenants[t.ID]; ok {
		return ErrConflict
	}
	if _, ok := m.domains[d]; ok {
		return ErrConflict
	}
	m.tenants[t.ID] = cloneTenant(t)
	m.domains[d] = t.ID
	return nil
}

// UpdateTenant implements Store.
func (m *MemoryStore) UpdateTenant(ctx context.Context, t Tenant) error {
	if err := t.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.tenants[t.ID]
	if !ok {
		return ErrNotFound
	}
	d := asciifold.Lower(t.Domain)
	if id, ok := m.domains[d]; ok && id != t.ID {
		return ErrConflict
	}
	delete(m.domains, asciifold.Lower(old.Domain))
	m.domains[d] = t.ID
	m.tenants[t.ID] = cloneTenant(t)
	return nil
}

// Tenant implements Store.
func (m *MemoryStore) Tenant(ctx context.Context, id string) (Tenant, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	t, ok := m.tenants[id]
	if !ok {
		return Tenant{}, ErrNotFound
	}
	return cloneTenant(t), nil
}

// TenantByDomain implements Store.
func (m *MemoryStore) TenantByDomain(ctx context.Context, domain string) (Tenant, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	id, ok := m.domains[asciifold.Lower(domain)]
	if !ok {
		return Tenant{}, ErrNotFound
	}
	return cloneTenant(m.tenants[id]), nil
}

// CreateUser implements Store.
func (m *MemoryStore) CreateUser(ctx context.Context, u User) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.validUserLocked(u); err != nil {
		return err
	}
	k := usernameKey(u.TenantID, u.Username)
	if _, ok := m.users[u.ID]; ok {
		return ErrConflict
	}
	if _, ok := m.usernames[k]; ok {
		return ErrConflict
	}
	m.users[u.ID] = &u
	m.usernames[k] = u.ID
	return nil
}

// UpdateUser implements Store.
func (m *MemoryStore) UpdateUser(ctx context.Context, u User) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.users[u.ID]
	if !ok {
		return ErrNotFound
	}
	if err := m.validUserLocked(u); err != nil {
		return err
	}
	k := usernameKey(u.TenantID, u.Username)
	if id, ok := m.usernames[k]; ok && id != u.ID {
		return ErrConflict
	}
	delete(m.usernames, usernameKey(old.TenantID, old.Username))
	m.usernames[k] = u.ID
	u.Epoch = old.Epoch
	if u.PasswordHash != old.PasswordHash || u.Disabled && !old.Disabled {
		u.Epoch++
	}
	*old = u // in place: the sign-ins of the user point to it
	return nil
}

// User implements Store.
func (m *MemoryStore) User(ctx context.Context, id string) (User, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	u, ok := m.users[id]
	if !ok {
		return User{}, ErrNotFound
	}
	return *u, nil
}

// UserByName implements Store.
func (m *MemoryStore) UserByName(ctx context.Context, tenantID, username string) (User, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	id, ok := m.usernames[usernameKey(tenantID, username)]
	if !ok {
		return User{}, ErrNotFound
	}
	return *m.users[id], nil
}

// UsersByEmail implements Store.
func (m *MemoryStore) UsersByEmail(ctx context.Context, tenantID, email string) ([]User, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	users := []User{}
	for _, u := range m.users {
		if u.TenantID == tenantID && u.Email != "" && asciifold.Equal(u.Email, email) {
			users = append(users, *u)
		}
	}
	return users, nil
}

// SwapPasswordHash implements Store.
func (m *MemoryStore) SwapPasswordHash(ctx context.Context, userID, oldHash, newHash string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[userID]
	if !ok {
		return ErrNotFound
	}
	if u.PasswordHash != oldHash {
		return ErrConflict
	}
	u.PasswordHash = newHash
	return nil
}

// ResetPassword implements Store.
func (m *MemoryStore) ResetPassword(ctx context.Context, userID, newHash string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[userID]
	if !ok {
		return ErrNotFound
	}
	u.PasswordHash = newHash
	u.PasswordForceReset = false
	m.revokeUserLocked(userID) // and advances the epoch
	return nil
}

// CreateFlow implements Store.
func (m *MemoryStore) CreateFlow(ctx context.Context, f Flow) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.flows[f.Hash]; ok {
		return ErrConflict
	}
	if u, ok := m.users[f.UserID]; ok && f.UserID != "" && u.Epoch != f.Epoch {
		return ErrStale
	}
	f.Version = 1
	m.flows[f.Hash] = f
	return nil
}

// Flow implements Store.
func (m *MemoryStore) Flow(ctx context.Context, h Hash, now time.Time) (Flow, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	f, ok := m.flows[h]
	if !ok || expired(f.ExpiresAt, now) {
		return Flow{}, ErrNotFound
	}
	return f, nil
}

// UpdateFlow implements Store.
func (m *MemoryStore) UpdateFlow(ctx context.Context, f Flow, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.flows[f.Hash]
	if !ok || expired(old.ExpiresAt, now) {
		return ErrNotFound
	}
	if old.Version != f.Version {
		return ErrConflict
	}
	f.Version++
	m.flows[f.Hash] = f
	return nil
}

// ConsumeFlow implements Store.
func (m *MemoryStore) ConsumeFlow(ctx context.Context, h Hash, purpose FlowPurpose, now time.Time) (Flow, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.flows[h]
	if !ok || f.Purpose != purpose || expired(f.ExpiresAt, now) {
		return Flow{}, ErrNotFound
	}
	delete(m.flows, h)
	return f, nil
}

// Counter implements Store.
func (m *MemoryStore) Counter(ctx context.Context, key string, now time.Time) (Counter, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	c, ok := m.counters[key]
	if !ok || expired(c.ExpiresAt, now) {
		return Counter{Key: key}, nil
	}
	return c, nil
}

// PutCounter implements Store.
func (m *MemoryStore) PutCounter(ctx context.Context, c Counter, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var version int64
	if old, ok := m.counters[c.Key]; ok && !expired(old.ExpiresAt, now) {
		version = old.Version
	}
	if version != c.Version {
		return ErrConflict
	}
	c.Version++
	m.counters[c.Key] = c
	return nil
}

// AddCounter implements Store.
func (m *MemoryStore) AddCounter(ctx context.Context, key string, delta int, expiresAt, now time.Time) (Counter, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.addCounter(m.liveCounter(key, expiresAt, now), delta, expiresAt), nil
}

// AddCounterBelow implements Store.
func (m *MemoryStore) AddCounterBelow(ctx context.Context, key string, limit int, expiresAt, now time.Time) (Counter, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.liveCounter(key, expiresAt, now)
	if c.Count >= limit {
		return Counter{Key: key}, false, nil
	}
	return m.addCounter(c, 1, expiresAt), true, nil
}

// liveCounter returns the counter key as an add at now finds it: a missing
// or expired one starts afresh. The caller holds m.mu.
func (m *MemoryStore) liveCounter(key string, expiresAt, now time.Time) Counter {
	c, ok := m.counters[key]
	if !ok || expired(c.ExpiresAt, now) {
		c = Counter{Key: key, WindowStart: now, ExpiresAt: expiresAt}
	}
	return c
}

// addCounter adds delta to c and stores it. The caller holds m.mu.
func (m *MemoryStore) addCounter(c Counter, delta int, expiresAt time.Time) Counter {
	c.Count = max(c.Count+delta, 0)
	if expiresAt.After(c.ExpiresAt) {
		c.ExpiresAt = expiresAt
	}
	c.Version++
	m.counters[c.Key] = c
	return c
}

// DeleteCounter implements Store.
func (m *MemoryStore) DeleteCounter(ctx context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.counters, key)
	return nil
}

// identityKey is the unique key of a linked account.
type identityKey struct{ tenant, issuer, subject string }

// tenantUser is the unique key of a linked user.
type tenantUser struct{ tenant, user string }

// LinkIdentity implements Store.
func (m *MemoryStore) LinkIdentity(ctx context.Context, id Identity) error {
	if err := id.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	k := identityKey{id.TenantID, id.Issuer, id.Subject}
	tu := tenantUser{id.TenantID, id.UserID}
	if _, ok := m.identities[k]; ok {
		return ErrConflict
	}
	if m.linkedUsers[tu] {
		return ErrConflict
	}
	m.identities[k] = id.UserID
	m.linkedUsers[tu] = true
	return nil
}

// IdentityUser implements Store.
func (m *MemoryStore) IdentityUser(ctx context.Context, tenantID, issuer, subject string) (string, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	id, ok := m.identities[identityKey{tenantID, issuer, subject}]
	if !ok {
		return "", ErrNotFound
	}
	return id, nil
}

// RekeyIdentity implements Store.
func (m *MemoryStore) RekeyIdentity(ctx context.Context, id Identity, from string) error {
	old := Identity{TenantID: id.TenantID, Issuer: id.Issuer, Subject: from, UserID: id.UserID}
	if err := id.Validate(); err != nil {
		return err
	}
	if err := old.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ok := identityKey{old.TenantID, old.Issuer, old.Subject}
	if m.identities[ok] != id.UserID {
		return ErrNotFound
	}
	nk := identityKey{id.TenantID, id.Issuer, id.Subject}
	if nk == ok {
		return nil
	}
	if _, taken := m.identities[nk]; taken {
		return ErrConflict
	}
	delete(m.identities, ok)
	m.identities[nk] = id.UserID
	return nil
}

// Device implements Store.
func (m *MemoryStore) Device(ctx context.Context, h Hash, now time.Time) (Device, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	d, ok := m.devices[h]
	if !ok || expired(d.ExpiresAt, now) {
		return Device{}, ErrNotFound
	}
	return d, nil
}

// AddDevice implements Store.
func (m *MemoryStore) AddDevice(ctx context.Context, d Device, max int, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.devices[d.Hash]; ok {
		return ErrConflict
	}
	m.devices[d.Hash] = d
	var mine []Device
	for h, o := range m.devices {
		switch {
		case o.UserID != d.UserID:
		case expired(o.ExpiresAt, now):
			delete(m.devices, h)
		default:
			mine = append(mine, o)
		}
	}
	// Newest first; ties by hash, as the SQL store orders them.
	slices.SortFunc(mine, func(a, b Device) int {
		if c := b.LastUsedAt.Compare(a.LastUsedAt); c != 0 {
			return c
		}
		return bytes.Compare(b.Hash[:], a.Hash[:])
	})
	for _, o := range mine[min(max, len(mine)):] {
		delete(m.devices, o.Hash)
	}
	return nil
}

// RotateDevice implements Store.
func (m *MemoryStore) RotateDevice(ctx context.Context, old Hash, d Device, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.devices[old]
	if !ok || expired(o.ExpiresAt, now) || o.UserID != d.UserID {
		return ErrNotFound
	}
	if _, ok := m.devices[d.Hash]; ok {
		return ErrConflict
	}
	delete(m.devices, old)
	d.ID = o.ID
	m.devices[d.Hash] = d
	return nil
}

// DeleteDevices implements Store.
func (m *MemoryStore) DeleteDevices(ctx context.Context, userID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for h, d := range m.devices {
		if d.UserID == userID {
			delete(m.devices, h)
		}
	}
	return nil
}

// DeleteExpired implements Sweeper.
func (m *MemoryStore) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for h, t := range m.tokens {
		// A family is deleted (below) only once expired or revoked, so
		// the family a token points to tells whether it still exists.
		if f := t.family; expired(t.ExpiresAt, now) || expired(f.ExpiresAt, now) || f.Revoked {
			delete(m.tokens, h)
			n++
		}
	}
	for p, h := range m.successors {
		t, ok := m.tokens[h]
		if !ok || expired(t.GraceUntil, now) {
			if ok {
				t.GraceSeed = GraceSeed{}
			}
			delete(m.successors, p)
		}
	}
	swept := map[string]bool{}
	for id, f := range m.families {
		if expired(f.ExpiresAt, now) || f.Revoked {
			delete(m.families, id)
			swept[f.UserID] = true
			n++
		}
	}
	for userID := range swept {
		m.liveOfLocked(userID, now)
	}
	for h, f := range m.flows {
		if expired(f.ExpiresAt, now) {
			delete(m.flows, h)
			n++
		}
	}
	for k, c := range m.counters {
		if expired(c.ExpiresAt, now) {
			delete(m.counters, k)
			n++
		}
	}
	for h, d := range m.devices {
		if expired(d.ExpiresAt, now) {
			delete(m.devices, h)
			n++
		}
	}
	n += m.useOnce.sweep(now)
	return n, nil
}
