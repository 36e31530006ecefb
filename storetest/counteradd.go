// This file checks AddCounter and AddCounterBelow: atomic adds to a
// counter, the base of every limit that counts an attempt before checking
// it, and the conditional add by which a limit takes a place without a
// write when none is left.

package storetest

import (
	"fmt"
	"slices"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// add calls AddCounter at now or stops the check, and returns the counter.
func add(t tb, s store.Store, key string, delta int, expiresAt, now time.Time) store.Counter {
	t.Helper()
	c, err := s.AddCounter(t.Context(), key, delta, expiresAt, now)
	must(t, err, fmt.Sprintf("AddCounter %q %+d", key, delta))
	return c
}

var counterAddChecks = []check{
	{name: "FreshCounter", fn: func(t tb, s store.Store) {
		c := add(t, s, "k", 1, at(time.Minute), base)
		want := store.Counter{Key: "k", Count: 1, WindowStart: base, ExpiresAt: at(time.Minute), Version: 1}
		equal(t, "AddCounter of a missing key", c, want)
		wantCounter(t, s, want, base, "after AddCounter")
		c = add(t, s, "k", 2, at(time.Minute), at(time.Second))
		want.Count, want.Version = 3, 2
		equal(t, "second AddCounter", c, want)
	}},
	{name: "KeepsOtherFields", fn: func(t tb, s store.Store) {
		stored := putCounter(t, s, counter("k"), base)
		c := add(t, s, "k", 1, at(time.Minute), base) // an earlier expiry does not shorten it
		want := stored
		want.Count, want.Version = stored.Count+1, stored.Version+1
		equal(t, "AddCounter of a stored counter", c, want)
		c = add(t, s, "k", -1, at(2*time.Hour), base)
		want.Count, want.Version, want.ExpiresAt = stored.Count, want.Version+1, at(2*time.Hour)
		equal(t, "AddCounter with a later expiry", c, want)
		stale := stored
		stale.Count = 99
		wantErr(t, s.PutCounter(t.Context(), stale, base), store.ErrConflict, "PutCounter at the version read before AddCounter")
	}},
	{name: "NeverBelowZero", fn: func(t tb, s store.Store) {
		if c := add(t, s, "k", -1, at(time.Minute), base); c.Count != 0 {
			t.Errorf("AddCounter -1 of a missing key: count %d, want 0", c.Count)
		}
		add(t, s, "k", 2, at(time.Minute), base)
		if c := add(t, s, "k", -5, at(time.Minute), base); c.Count != 0 {
			t.Errorf("AddCounter -5 of 2: count %d, want 0", c.Count)
		}
	}},
	{name: "ExpiredStartsAfresh", fn: func(t tb, s store.Store) {
		putCounter(t, s, counter("k"), base)
		end := at(time.Hour)
		c := add(t, s, "k", 1, end.Add(time.Minute), end)
		want := store.Counter{Key: "k", Count: 1, WindowStart: end, ExpiresAt: end.Add(time.Minute), Version: 1}
		equal(t, "AddCounter of an expired counter", c, want)
		c = add(t, s, "k", 1, end.Add(2*time.Minute), end.Add(time.Minute))
		want.WindowStart, want.ExpiresAt = end.Add(time.Minute), end.Add(2*time.Minute)
		equal(t, "AddCounter when it expired again", c, want)
	}},
	{name: "Delete", fn: func(t tb, s store.Store) {
		add(t, s, "k", 3, at(time.Minute), base)
		must(t, s.DeleteCounter(t.Context(), "k"), "DeleteCounter")
		if c := add(t, s, "k", 1, at(time.Minute), base); c.Count != 1 {
			t.Errorf("AddCounter after DeleteCounter: count %d, want 1", c.Count)
		}
	}},
	{name: "ConcurrentAdds", fn: func(t tb, s store.Store) {
		// Fresh, live and expired counters: every add is seen exactly once.
		putCounter(t, s, store.Counter{Key: "live", ExpiresAt: at(time.Hour)}, base)
		putCounter(t, s, store.Counter{Key: "expired", Count: 50, ExpiresAt: base}, at(-time.Hour))
		for _, key := range []string{"fresh", "live", "expired"} {
			counts := make([]int, racers)
			errs := concurrently(racers, func(i int) error {
				c, err := s.AddCounter(t.Context(), key, 1, at(time.Hour), base)
				counts[i] = c.Count
				return err
			})
			for i, err := range errs {
				wantErr(t, err, nil, fmt.Sprintf("concurrent AddCounter %q, racer %d", key, i))
			}
			slices.Sort(counts)
			for i, n := range counts {
				if n != i+1 {
					t.Fatalf("concurrent AddCounter %q returned counts %v, want 1 … %d each once", key, counts, racers)
				}
			}
			// Takes and refunds interleaved leave the count where it was.
			errs = concurrently(racers, func(i int) error {
				_, err := s.AddCounter(t.Context(), key, 1-2*(i%2), at(time.Hour), base)
				return err
			})
			for _, err := range errs {
				wantErr(t, err, nil, "concurrent AddCounter ±1")
			}
			c, err := s.Counter(t.Context(), key, base)
			wantErr(t, err, nil, "Counter")
			if c.Count != racers {
				t.Errorf("%q after %d adds and %d refunds of 1: count %d, want %d", key, racers/2, racers/2, c.Count, racers)
			}
		}
	}},
}

// addBelow calls AddCounterBelow at now or stops the check.
func addBelow(t tb, s store.Store, key string, limit int, expiresAt, now time.Time) (store.Counter, bool) {
	t.Helper()
	c, added, err := s.AddCounterBelow(t.Context(), key, limit, expiresAt, now)
	must(t, err, fmt.Sprintf("AddCounterBelow %q limit %d", key, limit))
	return c, added
}

// wantRefused checks that AddCounterBelow at limit did not add, answered
// only the key, and left the stored counter as it was.
func wantRefused(t tb, s store.Store, key string, limit int, expiresAt, now time.Time, what string) {
	t.Helper()
	before, err := s.Counter(t.Context(), key, now)
	must(t, err, "Counter")
	c, added := addBelow(t, s, key, limit, expiresAt, now)
	if added {
		t.Fatalf("AddCounterBelow %s added: %+v", what, c)
	}
	equal(t, "the Counter AddCounterBelow "+what+" returned", c, store.Counter{Key: key})
	wantCounter(t, s, before, now, "after AddCounterBelow "+what)
}

var counterAddBelowChecks = []check{
	{name: "Below", fn: func(t tb, s store.Store) {
		// Below the limit it adds as AddCounter does, fresh or live.
		c, added := addBelow(t, s, "k", 2, at(time.Minute), base)
		want := store.Counter{Key: "k", Count: 1, WindowStart: base, ExpiresAt: at(time.Minute), Version: 1}
		if !added {
			t.Fatalf("AddCounterBelow of a missing key did not add")
		}
		equal(t, "AddCounterBelow of a missing key", c, want)
		c, added = addBelow(t, s, "k", 2, at(time.Hour), at(time.Second))
		want.Count, want.ExpiresAt, want.Version = 2, at(time.Hour), 2
		if !added {
			t.Fatalf("AddCounterBelow at 1 of 2 did not add")
		}
		equal(t, "AddCounterBelow at 1 of 2", c, want)
		wantCounter(t, s, want, at(time.Second), "after two adds")
		// At the limit it stores nothing, not even a later expiry.
		wantRefused(t, s, "k", 2, at(2*time.Hour), at(time.Second), "at 2 of 2")
		wantRefused(t, s, "k", 1, at(2*time.Hour), at(time.Second), "at 2 of 1")
		// Refused adds leave nothing to lose: AddCounter still counts on.
		if c := add(t, s, "k", -1, at(time.Hour), at(time.Second)); c.Count != 1 || c.Version != 3 {
			t.Errorf("AddCounter -1 after refused adds: %+v, want count 1, version 3", c)
		}
		if _, added := addBelow(t, s, "k", 2, at(time.Hour), at(time.Second)); !added {
			t.Errorf("AddCounterBelow at 1 of 2 after a take-back did not add")
		}
	}},
	{name: "BelowKeepsOtherFields", fn: func(t tb, s store.Store) {
		stored := putCounter(t, s, counter("k"), base)
		c, added := addBelow(t, s, "k", stored.Count+1, at(time.Minute), base)
		want := stored
		want.Count, want.Version = stored.Count+1, stored.Version+1
		if !added {
			t.Fatalf("AddCounterBelow of a stored counter below its limit did not add")
		}
		equal(t, "AddCounterBelow of a stored counter", c, want)
		wantRefused(t, s, "k", stored.Count+1, at(2*time.Hour), base, "of a stored counter at its limit")
	}},
	{name: "BelowNoLimit", fn: func(t tb, s store.Store) {
		wantRefused(t, s, "missing", 0, at(time.Minute), base, "with limit 0 of a missing key")
		add(t, s, "k", 0, at(time.Minute), base)
		wantRefused(t, s, "k", 0, at(time.Hour), base, "with limit 0")
		wantRefused(t, s, "k", -1, at(time.Hour), base, "with limit -1")
	}},
	{name: "BelowExpiredStartsAfresh", fn: func(t tb, s store.Store) {
		putCounter(t, s, counter("k"), base) // count 3, expires at base+1h
		end := at(time.Hour)
		wantRefused(t, s, "k", 3, end.Add(time.Minute), end.Add(-time.Nanosecond), "1ns before it expires, at its limit")
		c, added := addBelow(t, s, "k", 3, end.Add(time.Minute), end)
		want := store.Counter{Key: "k", Count: 1, WindowStart: end, ExpiresAt: end.Add(time.Minute), Version: 1}
		if !added {
			t.Fatalf("AddCounterBelow of an expired counter at its old limit did not add")
		}
		equal(t, "AddCounterBelow of an expired counter", c, want)
	}},
	{name: "ConcurrentBelow", fn: func(t tb, s store.Store) {
		// Fresh, live and expired counters: of racers adds against a limit,
		// exactly as many as there are places add, each seeing its own count.
		const limit = 5
		putCounter(t, s, store.Counter{Key: "live", Count: 2, ExpiresAt: at(time.Hour)}, base)
		putCounter(t, s, store.Counter{Key: "expired", Count: 50, ExpiresAt: base}, at(-time.Hour))
		for _, c := range []struct {
			key  string
			from int
		}{{"fresh", 0}, {"live", 2}, {"expired", 0}} {
			counts := make([]int, racers)
			errs := concurrently(racers, func(i int) error {
				got, added, err := s.AddCounterBelow(t.Context(), c.key, limit, at(time.Hour), base)
				if added {
					counts[i] = got.Count
				}
				return err
			})
			for i, err := range errs {
				wantErr(t, err, nil, fmt.Sprintf("concurrent AddCounterBelow %q, racer %d", c.key, i))
			}
			counts = slices.DeleteFunc(counts, func(n int) bool { return n == 0 })
			slices.Sort(counts)
			if len(counts) != limit-c.from {
				t.Fatalf("%d concurrent AddCounterBelow %q from %d against %d: %d added, want %d", racers, c.key, c.from, limit, len(counts), limit-c.from)
			}
			for i, n := range counts {
				if n != c.from+i+1 {
					t.Fatalf("concurrent AddCounterBelow %q returned counts %v, want %d … %d each once", c.key, counts, c.from+1, limit)
				}
			}
			got, err := s.Counter(t.Context(), c.key, base)
			wantErr(t, err, nil, "Counter")
			if got.Count != limit {
				t.Errorf("%q after the race: count %d, want %d", c.key, got.Count, limit)
			}
		}
	}},
}
