// Package memstore is the reference [store.Store]: everything in maps under
// one lock. It is what storetest is checked against first, the example
// server's -db memory, and a fine choice for tests and single-process hosts
// that may forget every sign-in on restart:
//
//	a, err := pbxauth.New(pbxauth.Config{Store: New(), ...})
package memstore

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/pbxauth/pbxauth/internal/asciifold"
	"github.com/pbxauth/pbxauth/internal/memoutbox"
	"github.com/pbxauth/pbxauth/store"
)

// Store is an in-memory [store.Store], [store.Sweeper], [store.Outbox],
// [store.TOTPStore], [store.PasskeyStore] and [store.DirectoryLister]. The
// zero value is not usable; create one with [New]. It is safe for
// concurrent use.
type Store struct {
	mu          sync.RWMutex
	system      store.System
	tenants     map[string]store.Tenant // by ID
	domains     map[string]string       // lower(domain) -> tenant ID
	users       map[string]*store.User  // by ID; a user is changed in place, never removed
	usernames   map[string]string       // tenantID + "\x00" + lower(username) -> user ID
	families    map[string]*memFamily
	tokens      map[store.Hash]*memToken
	flows       map[store.Hash]store.Flow
	counters    map[string]store.Counter
	identities  map[identityKey]string // -> user ID
	linkedUsers map[tenantUser]bool
	totp        memTOTP // authenticator apps, under a lock of their own
	devices     map[store.Hash]store.Device
	successors  map[store.Hash]store.Hash // parent -> the refresh token its rotation issued with a grace seed
	// byUser indexes the sign-ins by user; those revoked or expired are
	// dropped from it lazily (liveOfLocked) and by DeleteExpired.
	byUser map[string][]*memFamily

	*memoutbox.Outbox // its own lock: mail workers never wait for token checks

	useOnce memUseOnce // uses of sealed states, under a lock of their own

	policies map[string]store.PasswordPolicy // by tenant ID; made on first use

	msCredentials map[string]store.MS365Credentials // by tenant ID; made on first use
	bindings      memBindings                       // Microsoft bindings and rules; made on first use
	passkeys      memPasskeys                       // under mu: adding and ending them reads the epoch and sign-ins
}

var (
	_ store.Store   = (*Store)(nil)
	_ store.Sweeper = (*Store)(nil)
	_ store.Outbox  = (*Store)(nil)
)

// New returns an empty Store.
func New() *Store {
	return &Store{
		tenants:     map[string]store.Tenant{},
		domains:     map[string]string{},
		users:       map[string]*store.User{},
		usernames:   map[string]string{},
		families:    map[string]*memFamily{},
		tokens:      map[store.Hash]*memToken{},
		flows:       map[store.Hash]store.Flow{},
		counters:    map[string]store.Counter{},
		identities:  map[identityKey]string{},
		linkedUsers: map[tenantUser]bool{},
		devices:     map[store.Hash]store.Device{},
		successors:  map[store.Hash]store.Hash{},
		byUser:      map[string][]*memFamily{},

		Outbox: memoutbox.New(),
	}
}

func expired(expiresAt, now time.Time) bool { return !now.Before(expiresAt) }

func usernameKey(tenantID, username string) string {
	return tenantID + "\x00" + asciifold.Lower(username)
}

func cloneTenant(t store.Tenant) store.Tenant {
	if t.MS365 != nil {
		m := *t.MS365
		t.MS365 = &m
	}
	return t
}

// System implements Store.
func (m *Store) System(ctx context.Context) (store.System, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.system, nil
}

// PutSystem implements Store.
func (m *Store) PutSystem(ctx context.Context, s store.System) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.system = s
	return nil
}

// CreateTenant implements Store.
func (m *Store) CreateTenant(ctx context.Context, t store.Tenant) error {
	if err := t.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	d := asciifold.Lower(t.Domain)
	if _, ok := m.tenants[t.ID]; ok {
		return store.ErrConflict
	}
	if _, ok := m.domains[d]; ok {
		return store.ErrConflict
	}
	m.tenants[t.ID] = cloneTenant(t)
	m.domains[d] = t.ID
	return nil
}

// UpdateTenant implements Store.
func (m *Store) UpdateTenant(ctx context.Context, t store.Tenant) error {
	if err := t.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.tenants[t.ID]
	if !ok {
		return store.ErrNotFound
	}
	d := asciifold.Lower(t.Domain)
	if id, ok := m.domains[d]; ok && id != t.ID {
		return store.ErrConflict
	}
	delete(m.domains, asciifold.Lower(old.Domain))
	m.domains[d] = t.ID
	m.tenants[t.ID] = cloneTenant(t)
	return nil
}

// Tenant implements Store.
func (m *Store) Tenant(ctx context.Context, id string) (store.Tenant, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	t, ok := m.tenants[id]
	if !ok {
		return store.Tenant{}, store.ErrNotFound
	}
	return cloneTenant(t), nil
}

// TenantByDomain implements Store.
func (m *Store) TenantByDomain(ctx context.Context, domain string) (store.Tenant, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	id, ok := m.domains[asciifold.Lower(domain)]
	if !ok {
		return store.Tenant{}, store.ErrNotFound
	}
	return cloneTenant(m.tenants[id]), nil
}

// CreateUser implements Store.
func (m *Store) CreateUser(ctx context.Context, u store.User) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.validUserLocked(u); err != nil {
		return err
	}
	k := usernameKey(u.TenantID, u.Username)
	if _, ok := m.users[u.ID]; ok {
		return store.ErrConflict
	}
	if _, ok := m.usernames[k]; ok {
		return store.ErrConflict
	}
	m.users[u.ID] = &u
	m.usernames[k] = u.ID
	return nil
}

// UpdateUser implements Store.
func (m *Store) UpdateUser(ctx context.Context, u store.User) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.users[u.ID]
	if !ok {
		return store.ErrNotFound
	}
	if err := m.validUserLocked(u); err != nil {
		return err
	}
	k := usernameKey(u.TenantID, u.Username)
	if id, ok := m.usernames[k]; ok && id != u.ID {
		return store.ErrConflict
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
func (m *Store) User(ctx context.Context, id string) (store.User, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	u, ok := m.users[id]
	if !ok {
		return store.User{}, store.ErrNotFound
	}
	return *u, nil
}

// UserByName implements Store.
func (m *Store) UserByName(ctx context.Context, tenantID, username string) (store.User, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	id, ok := m.usernames[usernameKey(tenantID, username)]
	if !ok {
		return store.User{}, store.ErrNotFound
	}
	return *m.users[id], nil
}

// UsersByEmail implements Store.
func (m *Store) UsersByEmail(ctx context.Context, tenantID, email string) ([]store.User, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	users := []store.User{}
	for _, u := range m.users {
		if u.TenantID == tenantID && u.Email != "" && asciifold.Equal(u.Email, email) {
			users = append(users, *u)
		}
	}
	return users, nil
}

// SwapPasswordHash implements Store.
func (m *Store) SwapPasswordHash(ctx context.Context, userID, oldHash, newHash string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[userID]
	if !ok {
		return store.ErrNotFound
	}
	if u.PasswordHash != oldHash {
		return store.ErrConflict
	}
	u.PasswordHash = newHash
	return nil
}

// ResetPassword implements Store.
func (m *Store) ResetPassword(ctx context.Context, userID, newHash string, forceReset bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.resetPasswordLocked(userID, newHash, forceReset)
}

// resetPasswordLocked is ResetPassword; the caller holds m.mu.
func (m *Store) resetPasswordLocked(userID, newHash string, forceReset bool) error {
	u, ok := m.users[userID]
	if !ok {
		return store.ErrNotFound
	}
	u.PasswordHash = newHash
	u.PasswordForceReset = forceReset
	m.revokeUserLocked(userID) // and advances the epoch
	m.deleteDevicesLocked(userID, "")
	return nil
}

// CreateFlow implements Store.
func (m *Store) CreateFlow(ctx context.Context, f store.Flow) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.flows[f.Hash]; ok {
		return store.ErrConflict
	}
	if u, ok := m.users[f.UserID]; ok && f.UserID != "" && u.Epoch != f.Epoch {
		return store.ErrStale
	}
	f.Version = 1
	m.flows[f.Hash] = f
	return nil
}

// Flow implements Store.
func (m *Store) Flow(ctx context.Context, h store.Hash, now time.Time) (store.Flow, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	f, ok := m.flows[h]
	if !ok || expired(f.ExpiresAt, now) {
		return store.Flow{}, store.ErrNotFound
	}
	return f, nil
}

// UpdateFlow implements Store.
func (m *Store) UpdateFlow(ctx context.Context, f store.Flow, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.flows[f.Hash]
	if !ok || expired(old.ExpiresAt, now) {
		return store.ErrNotFound
	}
	if old.Version != f.Version {
		return store.ErrConflict
	}
	f.Version++
	m.flows[f.Hash] = f
	return nil
}

// ConsumeFlow implements Store.
func (m *Store) ConsumeFlow(ctx context.Context, h store.Hash, purpose store.FlowPurpose, now time.Time) (store.Flow, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.flows[h]
	if !ok || f.Purpose != purpose || expired(f.ExpiresAt, now) {
		return store.Flow{}, store.ErrNotFound
	}
	delete(m.flows, h)
	return f, nil
}

// Counter implements Store.
func (m *Store) Counter(ctx context.Context, key string, now time.Time) (store.Counter, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	c, ok := m.counters[key]
	if !ok || expired(c.ExpiresAt, now) {
		return store.Counter{Key: key}, nil
	}
	return c, nil
}

// PutCounter implements Store.
func (m *Store) PutCounter(ctx context.Context, c store.Counter, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var version int64
	if old, ok := m.counters[c.Key]; ok && !expired(old.ExpiresAt, now) {
		version = old.Version
	}
	if version != c.Version {
		return store.ErrConflict
	}
	c.Version++
	m.counters[c.Key] = c
	return nil
}

// AddCounter implements Store.
func (m *Store) AddCounter(ctx context.Context, key string, delta int, expiresAt, now time.Time) (store.Counter, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.addCounter(m.liveCounter(key, expiresAt, now), delta, expiresAt), nil
}

// AddCounterBelow implements Store.
func (m *Store) AddCounterBelow(ctx context.Context, key string, limit int, expiresAt, now time.Time) (store.Counter, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.liveCounter(key, expiresAt, now)
	if c.Count >= limit {
		return store.Counter{Key: key}, false, nil
	}
	return m.addCounter(c, 1, expiresAt), true, nil
}

// liveCounter returns the counter key as an add at now finds it: a missing
// or expired one starts afresh. The caller holds m.mu.
func (m *Store) liveCounter(key string, expiresAt, now time.Time) store.Counter {
	c, ok := m.counters[key]
	if !ok || expired(c.ExpiresAt, now) {
		c = store.Counter{Key: key, WindowStart: now, ExpiresAt: expiresAt}
	}
	return c
}

// addCounter adds delta to c and stores it. The caller holds m.mu.
func (m *Store) addCounter(c store.Counter, delta int, expiresAt time.Time) store.Counter {
	c.Count = max(c.Count+delta, 0)
	if expiresAt.After(c.ExpiresAt) {
		c.ExpiresAt = expiresAt
	}
	c.Version++
	m.counters[c.Key] = c
	return c
}

// DeleteCounter implements Store.
func (m *Store) DeleteCounter(ctx context.Context, key string) error {
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
func (m *Store) LinkIdentity(ctx context.Context, id store.Identity) error {
	if err := id.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.linkLocked(id)
}

// linkLocked stores the link id; the caller holds m.mu for writing.
func (m *Store) linkLocked(id store.Identity) error {
	k := identityKey{id.TenantID, id.Issuer, id.Subject}
	tu := tenantUser{id.TenantID, id.UserID}
	if _, ok := m.identities[k]; ok {
		return store.ErrConflict
	}
	if m.linkedUsers[tu] {
		return store.ErrConflict
	}
	m.identities[k] = id.UserID
	m.linkedUsers[tu] = true
	return nil
}

// IdentityUser implements Store.
func (m *Store) IdentityUser(ctx context.Context, tenantID, issuer, subject string) (string, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	id, ok := m.identities[identityKey{tenantID, issuer, subject}]
	if !ok {
		return "", store.ErrNotFound
	}
	return id, nil
}

// RekeyIdentity implements Store.
func (m *Store) RekeyIdentity(ctx context.Context, id store.Identity, from string) error {
	old := store.Identity{TenantID: id.TenantID, Issuer: id.Issuer, Subject: from, UserID: id.UserID}
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
		return store.ErrNotFound
	}
	nk := identityKey{id.TenantID, id.Issuer, id.Subject}
	if nk == ok {
		return nil
	}
	if _, taken := m.identities[nk]; taken {
		return store.ErrConflict
	}
	delete(m.identities, ok)
	m.identities[nk] = id.UserID
	return nil
}

// Device implements Store.
func (m *Store) Device(ctx context.Context, h store.Hash, now time.Time) (store.Device, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	d, ok := m.devices[h]
	if !ok || expired(d.ExpiresAt, now) {
		return store.Device{}, store.ErrNotFound
	}
	return d, nil
}

// AddDevice implements Store.
func (m *Store) AddDevice(ctx context.Context, d store.Device, max int, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.devices[d.Hash]; ok {
		return store.ErrConflict
	}
	m.devices[d.Hash] = d
	var mine []store.Device
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
	slices.SortFunc(mine, func(a, b store.Device) int {
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
func (m *Store) RotateDevice(ctx context.Context, old store.Hash, d store.Device, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.devices[old]
	if !ok || expired(o.ExpiresAt, now) || o.UserID != d.UserID {
		return store.ErrNotFound
	}
	if _, ok := m.devices[d.Hash]; ok {
		return store.ErrConflict
	}
	delete(m.devices, old)
	d.ID = o.ID
	m.devices[d.Hash] = d
	return nil
}

// DeleteDevices implements Store.
func (m *Store) DeleteDevices(ctx context.Context, userID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.deleteDevicesLocked(userID, "")
	return nil
}

// deleteDevicesLocked deletes every device of the user but those with ID
// spare ("" spares none).
func (m *Store) deleteDevicesLocked(userID, spare string) {
	for h, d := range m.devices {
		if d.UserID == userID && (spare == "" || d.ID != spare) {
			delete(m.devices, h)
		}
	}
}

// DeleteExpired implements Sweeper.
func (m *Store) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
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
				t.GraceSeed = store.GraceSeed{}
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
