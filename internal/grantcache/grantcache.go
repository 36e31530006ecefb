// Package grantcache is the mechanism under sqlstore's grant cache: values
// kept in memory by key, each filed under the family and the user it depends
// on so that dropping either touches only their entries; served only while
// the source of invalidations is known to be live; and filled only when no
// invalidation can have overtaken the read that produced the value. It
// knows nothing of SQL, tokens or pbxauth: the caller reads the value,
// decides when it expires and tells the cache what changed.
package grantcache

import (
	"sync"
	"sync/atomic"
	"time"
)

// Cache keeps values of type V by key K. It is safe for concurrent use.
// The zero Cache is not usable; make one with [New].
//
// A Cache starts down: it serves nothing and takes no fills until [Cache.Up].
type Cache[K comparable, V any] struct {
	maxEntries int
	maxAge     time.Duration
	// clock tells liveness; it is the wall clock (with its monotonic
	// reading) except in this package's tests.
	clock func() time.Time

	mu       sync.RWMutex
	entries  map[K]*entry[V]
	families map[string]map[K]struct{}
	users    map[string]map[K]struct{}
	// gen counts the events after which a value read before them may be
	// stale: every invalidation and every down or up.
	gen       uint64
	up        bool
	liveUntil time.Time

	hits, misses atomic.Uint64
}

// entry is one cached value and what it is filed under.
type entry[V any] struct {
	value        V
	family, user string
	expires      time.Time
}

// New returns a cache of at most maxEntries values (at least 1), each kept
// at most maxAge from its fill. It starts down.
func New[K comparable, V any](maxEntries int, maxAge time.Duration) *Cache[K, V] {
	return &Cache[K, V]{
		maxEntries: max(maxEntries, 1),
		maxAge:     maxAge,
		clock:      time.Now,
		entries:    map[K]*entry[V]{},
		families:   map[string]map[K]struct{}{},
		users:      map[string]map[K]struct{}{},
	}
}

// Fill is the ticket of one fill: it records the generation seen before
// the caller reads the value, so that [Cache.Put] can refuse a value that an
// invalidation may have overtaken while it was read.
type Fill struct{ gen uint64 }

// Get returns the value of k if the cache is live and holds one that has
// not expired at now, and counts a hit; otherwise it counts a miss and
// returns a Fill for the value the caller then reads. The value is a copy
// (V's own references, if any, are shared).
func (c *Cache[K, V]) Get(k K, now time.Time) (v V, f Fill, ok bool) {
	c.mu.RLock()
	f = Fill{gen: c.gen}
	if e := c.entries[k]; e != nil && now.Before(e.expires) && c.liveLocked() {
		v, ok = e.value, true
	}
	c.mu.RUnlock()
	if ok {
		c.hits.Add(1)
	} else {
		c.misses.Add(1)
	}
	return v, f, ok
}

// liveLocked says whether the cache may serve: it is up, and the last sign
// of life of its invalidations is recent.
func (c *Cache[K, V]) liveLocked() bool { return c.up && c.clock().Before(c.liveUntil) }

// Put stores v under k, filed under family and user, until the earlier of
// expires and now plus the maximum age, and reports whether it did. It
// refuses while the cache is down, when anything invalidated or went down
// or up since f was taken (the value may predate that change), and when v
// has already expired at now. A full cache first evicts another entry,
// preferring one expired at now.
func (c *Cache[K, V]) Put(f Fill, k K, v V, family, user string, expires, now time.Time) bool {
	if limit := now.Add(c.maxAge); limit.Before(expires) {
		expires = limit
	}
	if !now.Before(expires) {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.up || c.gen != f.gen {
		return false
	}
	if _, ok := c.entries[k]; ok {
		c.removeLocked(k)
	} else if len(c.entries) >= c.maxEntries {
		c.evictLocked(now)
	}
	c.entries[k] = &entry[V]{value: v, family: family, user: user, expires: expires}
	file(c.families, family, k)
	file(c.users, user, k)
	return true
}

// evictSample is how many entries a full cache looks at for an expired one
// before it evicts the first it saw.
const evictSample = 8

// evictLocked removes one entry: an expired one among a few, else any.
// Map iteration starts at a random place, so "any" is a random one.
func (c *Cache[K, V]) evictLocked(now time.Time) {
	var victim K
	seen := 0
	for k, e := range c.entries {
		if seen == 0 {
			victim = k
		}
		if !now.Before(e.expires) {
			victim = k
			break
		}
		if seen++; seen == evictSample {
			break
		}
	}
	c.removeLocked(victim)
}

// Sweep looks at up to n values, from a random place, and removes those
// expired at now; it returns how many went. Called now and then, it keeps
// the cache near the values in use instead of filling it up with expired
// ones that only eviction would remove.
func (c *Cache[K, V]) Sweep(now time.Time, n int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	removed, seen := 0, 0
	for k, e := range c.entries {
		if seen++; seen > n {
			break
		}
		if !now.Before(e.expires) {
			c.removeLocked(k) // deleting during range is allowed
			removed++
		}
	}
	return removed
}

// file adds k to the set under name.
func file[K comparable](index map[string]map[K]struct{}, name string, k K) {
	set := index[name]
	if set == nil {
		set = map[K]struct{}{}
		index[name] = set
	}
	set[k] = struct{}{}
}

// unfile removes k from the set under name, and the set once empty.
func unfile[K comparable](index map[string]map[K]struct{}, name string, k K) {
	if set := index[name]; set != nil {
		delete(set, k)
		if len(set) == 0 {
			delete(index, name)
		}
	}
}

// removeLocked drops the entry of k, which must exist, from the entries and
// both indices.
func (c *Cache[K, V]) removeLocked(k K) {
	e := c.entries[k]
	delete(c.entries, k)
	unfile(c.families, e.family, k)
	unfile(c.users, e.user, k)
}

// ForgetFamily drops every value filed under the family and refuses the
// fills in flight.
func (c *Cache[K, V]) ForgetFamily(family string) { c.forget(c.families, family) }

// ForgetUser drops every value filed under the user and refuses the fills
// in flight.
func (c *Cache[K, V]) ForgetUser(user string) { c.forget(c.users, user) }

func (c *Cache[K, V]) forget(index map[string]map[K]struct{}, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for k := range index[name] {
		c.removeLocked(k)
	}
}

// ForgetAll drops every value and refuses the fills in flight.
func (c *Cache[K, V]) ForgetAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.clearLocked()
}

func (c *Cache[K, V]) clearLocked() {
	clear(c.entries)
	clear(c.families)
	clear(c.users)
}

// Update applies fn to every value filed under the family, in place. It
// does not refuse fills in flight: it is for changes that may safely be
// lost to a fill that read the value before them.
func (c *Cache[K, V]) Update(family string, fn func(*V)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.families[family] {
		fn(&c.entries[k].value)
	}
}

// Down empties the cache and stops it serving and filling until [Cache.Up]:
// the invalidations are no longer heard, so nothing it holds or could
// fill can be trusted.
func (c *Cache[K, V]) Down() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.up = false
	c.clearLocked()
}

// Up empties the cache again (invalidations may have been missed while it
// was down, even by the fills refused meanwhile) and lets it serve until
// liveUntil, by the wall clock, and fill.
func (c *Cache[K, V]) Up(liveUntil time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.clearLocked()
	c.up = true
	c.liveUntil = liveUntil
}

// Extend lets an up cache serve until liveUntil: the caller has just heard
// from the source of its invalidations, and has applied every invalidation
// sent before it asked. While no Extend comes, the cache stops serving at
// the last liveUntil, though it keeps its values and fills.
func (c *Cache[K, V]) Extend(liveUntil time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.up && liveUntil.After(c.liveUntil) {
		c.liveUntil = liveUntil
	}
}

// Stats are a cache's counters.
type Stats struct {
	Entries      int
	Hits, Misses uint64
	Live         bool // up, and within its last liveUntil
}

// Stats returns the cache's counters.
func (c *Cache[K, V]) Stats() Stats {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return Stats{Entries: len(c.entries), Hits: c.hits.Load(), Misses: c.misses.Load(), Live: c.liveLocked()}
}
