// This file holds the memory store's sign-ins and their tokens: issuing, the
// Grant behind every authenticated request, refresh rotation and revocation.
//
// A stored token points to its sign-in and the sign-in to its user, so the
// Grant of a request is one lookup by the token's hash and two pointers
// followed: no family or user ID is hashed and compared on the way, which at
// 10⁶ live sign-ins is two cache misses saved per request (BENCHMARKS.md).
// The records are changed in place under the write lock, so every pointer
// always sees the current sign-in and user.

package memstore

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// memFamily is a stored sign-in and its user.
type memFamily struct {
	store.Family
	// user is the stored user of Family.UserID, or nil when there was none
	// when the sign-in was stored; users are never removed.
	user *store.User
}

// memToken is a stored token and the sign-in it belongs to.
type memToken struct {
	store.Token
	family *memFamily
}

// signInBlock is a sign-in and the tokens it was created with (an access
// and a refresh token), allocated together.
type signInBlock struct {
	tokens [2]memToken
	family memFamily
}

// userOfLocked returns the user of f; the caller holds m.mu.
func (m *Store) userOfLocked(f *memFamily) (*store.User, bool) {
	if f.user != nil {
		return f.user, true
	}
	u, ok := m.users[f.UserID] // a sign-in stored before its user: rare
	return u, ok
}

// CreateFamily implements Store.
func (m *Store) CreateFamily(ctx context.Context, f store.Family, maxLive int, tokens ...store.Token) ([]string, error) {
	if err := f.Validate(tokens...); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.families[f.ID]; ok {
		return nil, store.ErrConflict
	}
	for i, t := range tokens {
		if _, ok := m.tokens[t.Hash]; ok {
			return nil, store.ErrConflict
		}
		for _, u := range tokens[:i] {
			if u.Hash == t.Hash {
				return nil, store.ErrConflict
			}
		}
	}
	if u, ok := m.users[f.UserID]; ok && u.Epoch != f.Epoch || m.passkeyGoneLocked(f) {
		return nil, store.ErrStale
	}
	evicted := m.evictLocked(f.UserID, f.CreatedAt, maxLive)
	// The sign-in and its first tokens share one allocation, so the token
	// that a request presents and its sign-in sit side by side in memory:
	// with many sign-ins, following the pointer rarely misses the cache.
	block := &signInBlock{family: memFamily{Family: f, user: m.users[f.UserID]}}
	m.families[f.ID] = &block.family
	m.byUser[f.UserID] = append(m.byUser[f.UserID], &block.family)
	for i, t := range tokens {
		var mt *memToken
		if i < len(block.tokens) {
			mt = &block.tokens[i]
		} else {
			mt = new(memToken)
		}
		*mt = memToken{Token: t, family: &block.family}
		m.tokens[t.Hash] = mt
	}
	return evicted, nil
}

// liveOfLocked returns the user's live sign-ins at now, and forgets from
// the user's index those that are not (they never come back); the caller
// holds m.mu.
func (m *Store) liveOfLocked(userID string, now time.Time) []*memFamily {
	fs := m.byUser[userID]
	live := fs[:0]
	for _, f := range fs {
		if liveFamily(f.Family, now) {
			live = append(live, f)
		}
	}
	clear(fs[len(live):])
	if len(live) == 0 {
		delete(m.byUser, userID)
		return nil
	}
	m.byUser[userID] = live
	return live
}

// evictLocked revokes the least recently used of the user's live sign-ins
// at now so that one more leaves at most maxLive (none when maxLive <= 0),
// and returns their IDs; the caller holds m.mu.
func (m *Store) evictLocked(userID string, now time.Time, maxLive int) []string {
	live := m.liveOfLocked(userID, now)
	n := len(live) + 1 - maxLive
	if maxLive <= 0 || n <= 0 {
		return nil
	}
	byUse := slices.Clone(live)
	slices.SortFunc(byUse, func(a, b *memFamily) int { return leastRecentlyUsed(a.Family, b.Family) })
	ids := make([]string, 0, n)
	for _, f := range byUse[:n] {
		f.Revoked = true
		ids = append(ids, f.ID)
	}
	m.liveOfLocked(userID, now)
	return ids
}

// leastRecentlyUsed orders sign-ins by LastUsedAt, then CreatedAt, then ID,
// ascending: the order in which CreateFamily evicts them.
func leastRecentlyUsed(a, b store.Family) int {
	if c := a.LastUsedAt.Compare(b.LastUsedAt); c != 0 {
		return c
	}
	if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// AddToken implements Store.
func (m *Store) AddToken(ctx context.Context, t store.Token, now time.Time) error {
	if err := t.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.families[t.FamilyID]
	if !ok || f.Revoked || expired(f.ExpiresAt, now) {
		return store.ErrNotFound
	}
	if _, ok := m.tokens[t.Hash]; ok {
		return store.ErrConflict
	}
	m.tokens[t.Hash] = &memToken{Token: t, family: f}
	return nil
}

// grantLocked reads a token's grant, and returns the stored token; the
// caller holds m.mu.
func (m *Store) grantLocked(h store.Hash, kind store.TokenKind, now time.Time) (store.Grant, *memToken, error) {
	t, u := m.liveLocked(h, kind, now)
	if t == nil {
		return store.Grant{}, nil, store.ErrNotFound
	}
	return store.Grant{Token: t.Token, Family: t.family.Family, User: *u}, t, nil
}

// liveLocked returns the token of h when it is of kind and live, in a live
// sign-in of an enabled user, and that user; nil otherwise. The caller
// holds m.mu. It returns pointers only, so that Grant, the bearer check's
// call, copies the grant once, into its result: a frame holding
// grantLocked's results besides takes a request's stack past its size.
func (m *Store) liveLocked(h store.Hash, kind store.TokenKind, now time.Time) (*memToken, *store.User) {
	t := m.tokens[h]
	if t == nil || t.Kind != kind || expired(t.ExpiresAt, now) {
		return nil, nil
	}
	f := t.family
	if f.Revoked || expired(f.ExpiresAt, now) {
		return nil, nil
	}
	u, ok := m.userOfLocked(f)
	if !ok || u.Disabled {
		return nil, nil
	}
	return t, u
}

// Grant implements Store.
func (m *Store) Grant(ctx context.Context, h store.Hash, kind store.TokenKind, now time.Time) (g store.Grant, err error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	t, u := m.liveLocked(h, kind, now)
	if t == nil {
		return g, store.ErrNotFound
	}
	g.Token, g.Family, g.User = t.Token, t.family.Family, *u
	return g, nil
}

// RotateRefresh implements Store.
func (m *Store) RotateRefresh(ctx context.Context, h store.Hash, now time.Time, next ...store.Token) (store.Grant, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g, used, err := m.grantLocked(h, store.RefreshToken, now)
	if err != nil {
		return store.Grant{}, err
	}
	if !g.Token.UsedAt.IsZero() {
		if succ, ok := m.tokens[m.successors[h]]; ok && succ.UsedAt.IsZero() && succ.GraceSeed != (store.GraceSeed{}) && now.Before(succ.GraceUntil) {
			g.Successor = succ.Token
		}
		return g, store.ErrTokenReused
	}
	for _, t := range next {
		if _, ok := m.tokens[t.Hash]; ok {
			return store.Grant{}, store.ErrConflict
		}
	}
	used.UsedAt, used.GraceSeed = now, store.GraceSeed{}
	for _, t := range next {
		t.FamilyID = g.Family.ID
		m.tokens[t.Hash] = &memToken{Token: t, family: used.family}
		if t.Kind == store.RefreshToken && t.GraceSeed != (store.GraceSeed{}) {
			m.successors[h] = t.Hash
		}
	}
	return g, nil
}

// RevokeFamily implements Store.
func (m *Store) RevokeFamily(ctx context.Context, familyID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if f, ok := m.families[familyID]; ok {
		f.Revoked = true
	}
	return nil
}

// RevokeUser implements Store.
func (m *Store) RevokeUser(ctx context.Context, userID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.revokeUserLocked(userID)
	return nil
}

// revokeUserLocked revokes every sign-in of the user and advances the
// user's epoch; the caller holds m.mu.
func (m *Store) revokeUserLocked(userID string) {
	for _, f := range m.byUser[userID] {
		f.Revoked = true
	}
	delete(m.byUser, userID)
	m.advanceEpochLocked(userID)
}

// advanceEpochLocked moves the user's sign-in epoch on, if there is such a
// user; the caller holds m.mu.
func (m *Store) advanceEpochLocked(userID string) {
	if u, ok := m.users[userID]; ok {
		u.Epoch++
	}
}
