package grantcache

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// t0 is the callers' clock in these tests; the liveness clock is separate.
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// val is a cached value: its key's version at the time it was read.
type val struct {
	user    string
	version int64
}

// liveClock is a liveness clock the test moves by hand: an offset from a
// fixed start.
type liveClock struct{ offset atomic.Int64 }

var liveStart = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func (l *liveClock) now() time.Time      { return liveStart.Add(time.Duration(l.offset.Load())) }
func (l *liveClock) add(d time.Duration) { l.offset.Add(int64(d)) }

// upCache returns a cache that is up and live for an hour of its clock.
func upCache(t *testing.T, maxEntries int) (*Cache[string, val], *liveClock) {
	t.Helper()
	clk := &liveClock{}
	c := New[string, val](maxEntries, 5*time.Minute)
	c.clock = clk.now
	c.Up(clk.now().Add(time.Hour))
	return c, clk
}

// fill misses k and puts v, as a caller does after reading v; it fails the
// test when the put is refused.
func fill(t *testing.T, c *Cache[string, val], k, family, user string, v val, expires time.Time) {
	t.Helper()
	if _, f, ok := c.Get(k, t0); ok {
		t.Fatalf("Get(%s) before the fill hit", k)
	} else if !c.Put(f, k, v, family, user, expires, t0) {
		t.Fatalf("Put(%s) refused", k)
	}
}

func wantHit(t *testing.T, c *Cache[string, val], k string, now time.Time, want val) {
	t.Helper()
	if got, _, ok := c.Get(k, now); !ok || got != want {
		t.Errorf("Get(%s) at %v = %+v, %v; want %+v, a hit", k, now.Sub(t0), got, ok, want)
	}
}

func wantMiss(t *testing.T, c *Cache[string, val], k string, now time.Time) {
	t.Helper()
	if got, _, ok := c.Get(k, now); ok {
		t.Errorf("Get(%s) at %v = %+v, a hit; want a miss", k, now.Sub(t0), got)
	}
}

func TestExpiry(t *testing.T) {
	c, _ := upCache(t, 10)
	fill(t, c, "soon", "f1", "u1", val{"u1", 1}, t0.Add(time.Minute))
	fill(t, c, "late", "f1", "u1", val{"u1", 1}, t0.Add(time.Hour)) // capped by the 5 min maximum age
	wantHit(t, c, "soon", t0.Add(time.Minute-time.Nanosecond), val{"u1", 1})
	wantMiss(t, c, "soon", t0.Add(time.Minute))
	wantHit(t, c, "late", t0.Add(5*time.Minute-time.Nanosecond), val{"u1", 1})
	wantMiss(t, c, "late", t0.Add(5*time.Minute))
	if _, f, _ := c.Get("gone", t0); c.Put(f, "gone", val{}, "f1", "u1", t0, t0) {
		t.Errorf("Put of a value expired at now was taken")
	}
}

func TestForget(t *testing.T) {
	c, _ := upCache(t, 10)
	fill(t, c, "a1", "fa", "alice", val{"alice", 1}, t0.Add(time.Hour))
	fill(t, c, "a2", "fa", "alice", val{"alice", 1}, t0.Add(time.Hour))
	fill(t, c, "a3", "fa2", "alice", val{"alice", 1}, t0.Add(time.Hour))
	fill(t, c, "b1", "fb", "bob", val{"bob", 1}, t0.Add(time.Hour))

	c.ForgetFamily("fa")
	wantMiss(t, c, "a1", t0)
	wantMiss(t, c, "a2", t0)
	wantHit(t, c, "a3", t0, val{"alice", 1})
	wantHit(t, c, "b1", t0, val{"bob", 1})

	c.ForgetUser("alice")
	wantMiss(t, c, "a3", t0)
	wantHit(t, c, "b1", t0, val{"bob", 1})
	c.ForgetUser("nobody")
	c.ForgetFamily("none")
	wantHit(t, c, "b1", t0, val{"bob", 1})
	if len(c.entries) != 1 || len(c.families) != 1 || len(c.users) != 1 {
		t.Errorf("after forgetting alice: %d entries, %d families, %d users indexed; want 1 each",
			len(c.entries), len(c.families), len(c.users))
	}

	// A refill replaces the entry and its filing.
	fill(t, c, "b2", "fb", "bob", val{"bob", 1}, t0.Add(time.Hour))
	if _, f, _ := c.Get("b2", t0); !c.Put(f, "b2", val{"bob", 2}, "fb2", "bob", t0.Add(time.Hour), t0) {
		t.Fatal("refill refused")
	}
	c.ForgetFamily("fb")
	wantHit(t, c, "b2", t0, val{"bob", 2})
	c.ForgetAll()
	wantMiss(t, c, "b2", t0)
	if len(c.entries)+len(c.families)+len(c.users) != 0 {
		t.Errorf("after ForgetAll: %d entries, %d families, %d users indexed", len(c.entries), len(c.families), len(c.users))
	}
}

// TestFillRace: a value read while something was invalidated, or while the
// cache went down or up, may predate the change; it is not stored.
func TestFillRace(t *testing.T) {
	for _, tc := range []struct {
		name   string
		during func(c *Cache[string, val])
	}{
		{"ForgetFamily of another family", func(c *Cache[string, val]) { c.ForgetFamily("other") }},
		{"ForgetUser", func(c *Cache[string, val]) { c.ForgetUser("alice") }},
		{"ForgetAll", func(c *Cache[string, val]) { c.ForgetAll() }},
		{"down and up", func(c *Cache[string, val]) { c.Down(); c.Up(time.Now().Add(time.Hour)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := upCache(t, 10)
			_, f, ok := c.Get("a1", t0)
			if ok {
				t.Fatal("hit in an empty cache")
			}
			tc.during(c) // while the caller reads the value
			if c.Put(f, "a1", val{"alice", 1}, "fa", "alice", t0.Add(time.Hour), t0) {
				t.Errorf("a fill overtaken by %s was stored", tc.name)
			}
			wantMiss(t, c, "a1", t0)
			fill(t, c, "a1", "fa", "alice", val{"alice", 2}, t0.Add(time.Hour)) // a fresh read is
			wantHit(t, c, "a1", t0, val{"alice", 2})
		})
	}
	t.Run("Update", func(t *testing.T) {
		c, _ := upCache(t, 10)
		_, f, _ := c.Get("a1", t0)
		c.Update("fa", func(v *val) { v.version++ })
		if !c.Put(f, "a1", val{"alice", 1}, "fa", "alice", t0.Add(time.Hour), t0) {
			t.Errorf("Update refused a fill; it must not")
		}
	})
}

func TestDownUpLiveness(t *testing.T) {
	c := New[string, val](10, time.Hour)
	clk := &liveClock{}
	c.clock = clk.now
	if _, f, _ := c.Get("a1", t0); c.Put(f, "a1", val{"alice", 1}, "fa", "alice", t0.Add(time.Hour), t0) {
		t.Fatal("a new cache took a fill before Up")
	}
	c.Up(clk.now().Add(500 * time.Millisecond))
	fill(t, c, "a1", "fa", "alice", val{"alice", 1}, t0.Add(time.Hour))
	wantHit(t, c, "a1", t0, val{"alice", 1})

	// No sign of life within the window: the values stay but are not served.
	clk.add(500 * time.Millisecond)
	wantMiss(t, c, "a1", t0)
	if s := c.Stats(); s.Live || s.Entries != 1 {
		t.Errorf("past the window: %+v; want not live, 1 entry kept", s)
	}
	c.Extend(clk.now().Add(500 * time.Millisecond))
	wantHit(t, c, "a1", t0, val{"alice", 1})
	c.Extend(clk.now()) // an older sign of life does not shorten the window
	wantHit(t, c, "a1", t0, val{"alice", 1})

	c.Down()
	wantMiss(t, c, "a1", t0)
	c.Extend(clk.now().Add(time.Hour)) // Extend does not bring a cache up
	if _, f, _ := c.Get("a1", t0); c.Put(f, "a1", val{"alice", 1}, "fa", "alice", t0.Add(time.Hour), t0) {
		t.Error("a down cache took a fill")
	}
	if s := c.Stats(); s.Live || s.Entries != 0 {
		t.Errorf("down: %+v; want not live, empty", s)
	}
	c.Up(clk.now().Add(time.Second))
	wantMiss(t, c, "a1", t0)
	fill(t, c, "a1", "fa", "alice", val{"alice", 2}, t0.Add(time.Hour))
	wantHit(t, c, "a1", t0, val{"alice", 2})
	if s := c.Stats(); !s.Live || s.Entries != 1 || s.Hits == 0 || s.Misses == 0 {
		t.Errorf("up again: %+v", s)
	}
}

func TestUpdate(t *testing.T) {
	c, _ := upCache(t, 10)
	fill(t, c, "a1", "fa", "alice", val{"alice", 1}, t0.Add(time.Hour))
	fill(t, c, "a2", "fa2", "alice", val{"alice", 1}, t0.Add(time.Hour))
	c.Update("fa", func(v *val) { v.version = 7 })
	c.Update("none", func(v *val) { t.Error("Update called fn for a family without values") })
	wantHit(t, c, "a1", t0, val{"alice", 7})
	wantHit(t, c, "a2", t0, val{"alice", 1})
}

func TestEviction(t *testing.T) {
	c, _ := upCache(t, 4)
	for i := range 4 {
		fill(t, c, fmt.Sprint("k", i), "f", "u", val{"u", 1}, t0.Add(time.Duration(i+1)*time.Hour))
	}
	// At t0+90 s none has expired: a random one goes.
	later := t0.Add(90 * time.Second)
	if _, f, _ := c.Get("new", later); !c.Put(f, "new", val{"u", 1}, "f", "u", t0.Add(time.Hour), later) {
		t.Fatal("Put into a full cache refused")
	}
	if len(c.entries) != 4 || len(c.families["f"]) != 4 || len(c.users["u"]) != 4 {
		t.Fatalf("a full cache after a Put: %d entries, %d filed under f, %d under u; want 4",
			len(c.entries), len(c.families["f"]), len(c.users["u"]))
	}
	// At t0+6 min every old entry has expired (5 min maximum age): one of
	// those goes, never the live one just put.
	late := t0.Add(6 * time.Minute)
	fresh := late.Add(time.Hour)
	if _, f, _ := c.Get("fresh", late); !c.Put(f, "fresh", val{"u", 2}, "f", "u", fresh, late) {
		t.Fatal("Put refused")
	}
	if _, f, _ := c.Get("fresh2", late); !c.Put(f, "fresh2", val{"u", 2}, "f", "u", fresh, late) {
		t.Fatal("Put refused")
	}
	wantHit(t, c, "fresh", late, val{"u", 2})
	wantHit(t, c, "fresh2", late, val{"u", 2})
}

func TestSweep(t *testing.T) {
	c, _ := upCache(t, 100)
	for i := range 10 {
		fill(t, c, fmt.Sprint("old", i), "f", "u", val{"u", 1}, t0.Add(time.Minute))
		fill(t, c, fmt.Sprint("new", i), "f", "u", val{"u", 1}, t0.Add(time.Hour))
	}
	if n := c.Sweep(t0.Add(2*time.Minute), 5); n > 5 {
		t.Errorf("Sweep of at most 5 removed %d", n)
	}
	c.Sweep(t0.Add(2*time.Minute), 100)
	if len(c.entries) != 10 || len(c.families["f"]) != 10 || len(c.users["u"]) != 10 {
		t.Errorf("after sweeping: %d entries, %d under f, %d under u; want the 10 live ones", len(c.entries), len(c.families["f"]), len(c.users["u"]))
	}
	for i := range 10 {
		wantHit(t, c, fmt.Sprint("new", i), t0.Add(2*time.Minute), val{"u", 1})
	}
}

// TestConcurrent races readers that fill from a versioned "database"
// against writers that change it and then invalidate, as the store does. A
// value older than an invalidation that finished before the Get began must
// never be served. Run it with -race.
func TestConcurrent(t *testing.T) {
	c := New[string, val](64, time.Hour)
	c.Up(time.Now().Add(time.Hour))
	const users, keysPerUser = 4, 8
	var (
		db        [users]atomic.Int64 // each user's current version
		forgotten [users]atomic.Int64 // the version that ForgetUser last finished for
		stop      atomic.Bool
		wg        sync.WaitGroup
	)
	name := func(u int) string { return fmt.Sprint("user", u) }
	for u := range users {
		wg.Go(func() { // a writer: change, then invalidate
			for i := 0; !stop.Load(); i++ {
				v := db[u].Add(1)
				if i%2 == 0 {
					c.ForgetUser(name(u))
				} else {
					c.ForgetFamily(fmt.Sprintf("%s/f%d", name(u), i%3))
					c.ForgetFamily(fmt.Sprintf("%s/f%d", name(u), (i+1)%3))
					c.ForgetFamily(fmt.Sprintf("%s/f%d", name(u), (i+2)%3))
				}
				forgotten[u].Store(v)
			}
		})
	}
	var hits, ops atomic.Int64
	for r := range 8 {
		wg.Go(func() { // a reader: get, or read and fill
			for i := 0; !stop.Load(); i++ {
				u := (r + i) % users
				k := fmt.Sprintf("%s/k%d", name(u), i%keysPerUser)
				ops.Add(1)
				low := forgotten[u].Load()
				got, f, ok := c.Get(k, t0)
				if ok {
					hits.Add(1)
					if got.version < low {
						t.Errorf("Get(%s) served version %d after the invalidation of version %d had finished", k, got.version, low)
						stop.Store(true)
					}
					continue
				}
				v := val{name(u), db[u].Load()} // the "query"
				c.Put(f, k, v, fmt.Sprintf("%s/f%d", name(u), i%3), name(u), t0.Add(time.Hour), t0)
			}
		})
	}
	// Down and up now and then, each time after the readers have done some
	// more work.
	for round := range int64(50) {
		for ops.Load() < (round+1)*500 && !stop.Load() {
			runtime.Gosched()
		}
		c.Down()
		c.Up(time.Now().Add(time.Hour))
	}
	stop.Store(true)
	wg.Wait()
	if hits.Load() == 0 {
		t.Error("no Get hit: the race was not exercised")
	}
	if s := c.Stats(); s.Entries > 64 {
		t.Errorf("%d entries, bound 64", s.Entries)
	}
}
