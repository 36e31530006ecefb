// This file is the grant cache as the Store sees it (Options.GrantCache):
// which grants it keeps and until when, what the Store's own writes drop from
// it, and its counters. The mechanism is internal/grantcache; the
// notifications that keep it current across instances are grantnotify.go's.

package sqlstore

import (
	"time"

	"github.com/pbxauth/pbxauth/internal/grantcache"
	"github.com/pbxauth/pbxauth/store"
)

// grantFill is a miss that may become a cached grant. The zero grantFill,
// of a Store without a cache or of a token that is not cached, puts nothing.
type grantFill struct {
	g    *grantCache
	h    store.Hash
	fill grantcache.Fill
}

// lookup returns the cached grant of the access token h at now, if the
// cache has one it may serve; otherwise the fill for the grant the caller
// reads. Only access tokens are cached: a refresh token is spent by its
// use, and its grant must come from the database that decides that. Safe on
// a nil *grantCache.
func (g *grantCache) lookup(h store.Hash, kind store.TokenKind, now time.Time) (store.Grant, grantFill, bool) {
	if g == nil || kind != store.AccessToken {
		return store.Grant{}, grantFill{}, false
	}
	gr, f, ok := g.cache.Get(h, now)
	return gr, grantFill{g: g, h: h, fill: f}, ok
}

// put caches gr, read by the fill's Grant with result err, until its token
// or its sign-in ends. Refusals (ErrNotFound) are not cached: a token is
// refused for good only once it expires, and a token being signed in on
// another instance is about to exist.
func (f grantFill) put(gr store.Grant, err error, now time.Time) {
	if f.g == nil || err != nil {
		return
	}
	expires := gr.Token.ExpiresAt
	if gr.Family.ExpiresAt.Before(expires) {
		expires = gr.Family.ExpiresAt
	}
	f.g.cache.Put(f.fill, f.h, gr, gr.Family.ID, gr.User.ID, expires, now)
}

// The Store's own writes drop what they change from its cache as soon as
// they return, so that this instance sees them at once; the notification
// that the triggers send on commit arrives later and does it again, here
// and on every other instance. A failed write drops too: it may have
// committed before failing.

// forgetFamily drops the grants of the sign-in. Safe on a nil *grantCache.
func (g *grantCache) forgetFamily(familyID string) {
	if g != nil {
		g.cache.ForgetFamily(familyID)
	}
}

// forgetUser drops the grants of the user's sign-ins. Safe on a nil
// *grantCache.
func (g *grantCache) forgetUser(userID string) {
	if g != nil {
		g.cache.ForgetUser(userID)
	}
}

// touched moves the cached LastUsedAt of the sign-in's grants up to now,
// after TouchFamily, whether its UPDATE wrote or found the time already
// fresh (another instance wrote it): pbxauth touches a sign-in whose
// grant shows a LastUsedAt a minute old, and a cached grant that kept the
// old time would have every request after that minute write again. The
// triggers announce no touch, so other instances keep their older times
// until they touch in turn. Safe on a nil *grantCache.
func (g *grantCache) touched(familyID string, now time.Time) {
	if g == nil {
		return
	}
	g.cache.Update(familyID, func(gr *store.Grant) {
		if gr.Family.LastUsedAt.Before(now) {
			gr.Family.LastUsedAt = now
		}
	})
}

// GrantCacheStats are the counters of a Store's grant cache.
type GrantCacheStats struct {
	// Entries is how many grants the cache holds now.
	Entries int
	// Hits counts the grants of access tokens served from memory, Misses
	// those read from the database: not cached, expired, or the cache not
	// live.
	Hits, Misses uint64
	// Live says whether the cache serves now: its notification connection
	// is up and answered within the last 500 ms. While it is not, every
	// check asks the database.
	Live bool
}

// GrantCacheStats returns the counters of the grant cache; the zero value
// for a Store without one (Options.GrantCache). Safe for concurrent use.
func (s *Store) GrantCacheStats() GrantCacheStats {
	if s.grants == nil {
		return GrantCacheStats{}
	}
	st := s.grants.cache.Stats()
	return GrantCacheStats{Entries: st.Entries, Hits: st.Hits, Misses: st.Misses, Live: st.Live}
}
