// This file checks AddCounter: atomic adds to a counter, the base of every
// limit that counts an attempt before checking it.

package storetest

import (
	"fmt"
	"slices"
	"time"

	"github.com/pbxauth/pbxauth"
)

// add calls AddCounter at now or stops the check, and returns the counter.
func add(t tb, s pbxauth.Store, key string, delta int, expiresAt, now time.Time) pbxauth.Counter {
	t.Helper()
	c, err := s.AddCounter(t.Context(), key, delta, expiresAt, now)
	must(t, err, fmt.Sprintf("AddCounter %q %+d", key, delta))
	return c
}

var counterAddChecks = []check{
	{name: "FreshCounter", fn: func(t tb, s pbxauth.Store) {
		c := add(t, s, "k", 1, at(time.Minute), base)
		want := pbxauth.Counter{Key: "k", Count: 1, WindowStart: base, ExpiresAt: at(time.Minute), Version: 1}
		equal(t, "AddCounter of a missing key", c, want)
		wantCounter(t, s, want, base, "after AddCounter")
		c = add(t, s, "k", 2, at(time.Minute), at(time.Second))
		want.Count, want.Version = 3, 2
		equal(t, "second AddCounter", c, want)
	}},
	{name: "KeepsOtherFields", fn: func(t tb, s pbxauth.Store) {
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
		wantErr(t, s.PutCounter(t.Context(), stale, base), pbxauth.ErrConflict, "PutCounter at the version read before AddCounter")
	}},
	{name: "NeverBelowZero", fn: func(t tb, s pbxauth.Store) {
		if c := add(t, s, "k", -1, at(time.Minute), base); c.Count != 0 {
			t.Errorf("AddCounter -1 of a missing key: count %d, want 0", c.Count)
		}
		add(t, s, "k", 2, at(time.Minute), base)
		if c := add(t, s, "k", -5, at(time.Minute), base); c.Count != 0 {
			t.Errorf("AddCounter -5 of 2: count %d, want 0", c.Count)
		}
	}},
	{name: "ExpiredStartsAfresh", fn: func(t tb, s pbxauth.Store) {
		putCounter(t, s, counter("k"), base)
		end := at(time.Hour)
		c := add(t, s, "k", 1, end.Add(time.Minute), end)
		want := pbxauth.Counter{Key: "k", Count: 1, WindowStart: end, ExpiresAt: end.Add(time.Minute), Version: 1}
		equal(t, "AddCounter of an expired counter", c, want)
		c = add(t, s, "k", 1, end.Add(2*time.Minute), end.Add(time.Minute))
		want.WindowStart, want.ExpiresAt = end.Add(time.Minute), end.Add(2*time.Minute)
		equal(t, "AddCounter when it expired again", c, want)
	}},
	{name: "Delete", fn: func(t tb, s pbxauth.Store) {
		add(t, s, "k", 3, at(time.Minute), base)
		must(t, s.DeleteCounter(t.Context(), "k"), "DeleteCounter")
		if c := add(t, s, "k", 1, at(time.Minute), base); c.Count != 1 {
			t.Errorf("AddCounter after DeleteCounter: count %d, want 1", c.Count)
		}
	}},
	{name: "ConcurrentAdds", fn: func(t tb, s pbxauth.Store) {
		// Fresh, live and expired counters: every add is seen exactly once.
		putCounter(t, s, pbxauth.Counter{Key: "live", ExpiresAt: at(time.Hour)}, base)
		putCounter(t, s, pbxauth.Counter{Key: "expired", Count: 50, ExpiresAt: base}, at(-time.Hour))
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
