// This file checks counters: expiring throttling state shared through
// compare-and-swap, where a missing or expired counter is version 0.

package storetest

import (
	"fmt"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// counter returns a locked counter with every field set, expiring at base+1h.
func counter(key string) store.Counter {
	return store.Counter{
		Key:         key,
		Count:       3,
		Locks:       1,
		LockedUntil: at(15 * time.Minute),
		WindowStart: at(-5 * time.Minute),
		ExpiresAt:   at(time.Hour),
	}
}

// putCounter stores c at now or stops the check, and returns it as stored.
func putCounter(t tb, s store.Store, c store.Counter, now time.Time) store.Counter {
	t.Helper()
	must(t, s.PutCounter(t.Context(), c, now), fmt.Sprintf("PutCounter %q at version %d", c.Key, c.Version))
	c.Version++
	return c
}

// wantCounter checks that the counter reads as want at now.
func wantCounter(t tb, s store.Store, want store.Counter, now time.Time, what string) {
	t.Helper()
	got, err := s.Counter(t.Context(), want.Key, now)
	wantErr(t, err, nil, "Counter "+what)
	equal(t, "Counter "+what, got, want)
}

var counterChecks = []check{
	{name: "MissingIsZero", fn: func(t tb, s store.Store) {
		putCounter(t, s, counter("other"), base)
		wantCounter(t, s, store.Counter{Key: "missing"}, base, "of a missing key")
	}},
	{name: "RoundTrip", fn: func(t tb, s store.Store) {
		full := counter("ip:203.0.113.7")
		bare := store.Counter{Key: "user:u-1", Count: 1, ExpiresAt: at(time.Minute)}
		for _, c := range []store.Counter{full, bare} {
			wantCounter(t, s, putCounter(t, s, c, base), base, "after PutCounter")
		}
	}},
	{name: "CompareAndSwap", fn: func(t tb, s store.Store) {
		c := putCounter(t, s, counter("k"), base)
		refuse := func(version int64) {
			t.Helper()
			bad := c
			bad.Count = 99
			bad.Version = version
			wantErr(t, s.PutCounter(t.Context(), bad, base), store.ErrConflict,
				fmt.Sprintf("PutCounter at version %d when %d is stored", version, c.Version))
			wantCounter(t, s, c, base, "after a refused PutCounter")
		}
		refuse(0)
		refuse(2)
		c.Count++
		c = putCounter(t, s, c, base)
		wantCounter(t, s, c, base, "after PutCounter")
		refuse(1)
		refuse(3)
	}},
	{name: "Expiry", fn: func(t tb, s store.Store) {
		c := putCounter(t, s, counter("k"), base)
		end := c.ExpiresAt
		wantCounter(t, s, c, end.Add(-time.Nanosecond), "1ns before it expires")
		wantCounter(t, s, store.Counter{Key: "k"}, end, "when it expires")
		wantErr(t, s.PutCounter(t.Context(), c, end), store.ErrConflict,
			"PutCounter at the version of an expired counter")
		fresh := store.Counter{Key: "k", Count: 1, WindowStart: end, ExpiresAt: end.Add(time.Hour)}
		fresh = putCounter(t, s, fresh, end) // an expired counter is version 0
		wantCounter(t, s, fresh, end, "put over an expired counter")
	}},
	{name: "Delete", fn: func(t tb, s store.Store) {
		ctx := t.Context()
		other := putCounter(t, s, counter("other"), base)
		c := putCounter(t, s, counter("k"), base)
		for range 2 {
			must(t, s.DeleteCounter(ctx, c.Key), "DeleteCounter")
			wantCounter(t, s, store.Counter{Key: c.Key}, base, "after DeleteCounter")
		}
		must(t, s.DeleteCounter(ctx, "never"), "DeleteCounter of a missing key")
		wantCounter(t, s, other, base, "of another key after DeleteCounter")
		c.Version = 0
		wantCounter(t, s, putCounter(t, s, c, base), base, "put after DeleteCounter")
	}},
	{name: "ConcurrentPut", fn: func(t tb, s store.Store) {
		// Three ways to the same swap, which a database may take apart: an
		// insert, an update, and an insert over an expired row.
		putCounter(t, s, counter("existing"), base)
		old := counter("expired")
		old.ExpiresAt = base
		putCounter(t, s, old, at(-time.Hour))
		for _, c := range []struct {
			key     string
			version int64
		}{{"new", 0}, {"existing", 1}, {"expired", 0}} {
			errs := concurrently(racers, func(i int) error {
				return s.PutCounter(t.Context(), store.Counter{Key: c.key, Count: i + 1, ExpiresAt: at(time.Hour), Version: c.version}, base)
			})
			winner := oneWinner(t, fmt.Sprintf("PutCounter of %s counter at version %d", c.key, c.version), errs, store.ErrConflict)
			want := store.Counter{Key: c.key, Count: winner + 1, ExpiresAt: at(time.Hour), Version: c.version + 1}
			wantCounter(t, s, want, base, "after concurrent PutCounter")
		}
	}},
}
