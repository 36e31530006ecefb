package hasher

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// held is a granted slot.
type held struct {
	lane    Lane
	release func()
}

func acquire(t *testing.T, p *Pool, lane Lane, key string) held {
	t.Helper()
	got, release, err := p.Acquire(context.Background(), lane, key)
	if err != nil {
		t.Fatalf("Acquire(%v, %q): %v", lane, key, err)
	}
	return held{got, release}
}

// queued starts an Acquire that is expected to wait, waits until the pool
// shows it queued, and returns a channel that delivers its outcome. A
// granted slot is held until the test ends; ctx should end with the test.
func queued(t *testing.T, p *Pool, ctx context.Context, lane Lane, key string) <-chan error {
	t.Helper()
	before := p.Stats()
	done := make(chan error, 1)
	go func() {
		_, release, err := p.Acquire(ctx, lane, key)
		done <- err
		if err == nil {
			<-t.Context().Done()
			release()
		}
	}()
	waitFor(t, func() bool {
		s := p.Stats()
		return s.KnownQueue+s.OrdinaryQueue > before.KnownQueue+before.OrdinaryQueue
	}, "the waiter to queue")
	return done
}

// waitFor polls cond with a deadline: the waiter runs in another goroutine.
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func granted(ch <-chan error) bool {
	select {
	case err := <-ch:
		return err == nil
	default:
		return false
	}
}

func TestOrdinaryHoldsAtMostHalf(t *testing.T) {
	for _, c := range []struct{ slots, ordinary int }{{1, 1}, {2, 1}, {3, 1}, {4, 2}, {16, 8}} {
		p := NewPool(c.slots, 4)
		if p.OrdinarySlots() != c.ordinary {
			t.Errorf("New(%d): %d ordinary slots, want %d", c.slots, p.OrdinarySlots(), c.ordinary)
		}
		for range c.ordinary {
			acquire(t, p, Ordinary, "")
		}
		done := queued(t, p, t.Context(), Ordinary, "")
		// Known work still gets every other slot at once.
		for i := range c.slots - c.ordinary {
			acquire(t, p, Known, string(rune('a'+i)))
		}
		if s := p.Stats(); s.InUse != c.slots || s.Ordinary != c.ordinary || granted(done) {
			t.Errorf("slots %d: stats %+v, ordinary waiter granted %v", c.slots, s, granted(done))
		}
	}
}

func TestKnownDequeuedFirst(t *testing.T) {
	p := NewPool(2, 4)
	a, b := acquire(t, p, Known, "a"), acquire(t, p, Known, "b")
	ord := queued(t, p, t.Context(), Ordinary, "")
	known := queued(t, p, t.Context(), Known, "c")
	a.release()
	waitFor(t, func() bool { return len(known) == 1 }, "the known waiter's grant")
	if err := <-known; err != nil {
		t.Fatal(err)
	}
	if granted(ord) {
		t.Fatal("the ordinary waiter, queued first, went before the known one")
	}
	b.release()
	waitFor(t, func() bool { return len(ord) == 1 }, "the ordinary waiter's grant")
}

func TestQueuesAreBoundedPerLane(t *testing.T) {
	p := NewPool(1, 1)
	h := acquire(t, p, Ordinary, "")
	queued(t, p, t.Context(), Ordinary, "")
	if _, _, err := p.Acquire(context.Background(), Ordinary, ""); !errors.Is(err, ErrBusy) {
		t.Fatalf("second ordinary waiter: %v, want ErrBusy", err)
	}
	// A full ordinary queue does not refuse known work.
	known := queued(t, p, t.Context(), Known, "k")
	if _, _, err := p.Acquire(context.Background(), Known, "k2"); !errors.Is(err, ErrBusy) {
		t.Fatalf("second known waiter: %v, want ErrBusy", err)
	}
	h.release()
	waitFor(t, func() bool { return len(known) == 1 }, "the known waiter's grant")
}

func TestOneKnownPerKey(t *testing.T) {
	p := NewPool(4, 4)
	first := acquire(t, p, Known, "u")
	if second := acquire(t, p, Known, "u"); second.lane != Ordinary {
		t.Fatalf("a second piece of known work of one key ran in lane %v", second.lane)
	}
	if other := acquire(t, p, Known, "v"); other.lane != Known {
		t.Fatalf("another key: lane %v", other.lane)
	}
	first.release()
	first.release() // a second release changes nothing
	if again := acquire(t, p, Known, "u"); again.lane != Known {
		t.Fatalf("after the release: lane %v", again.lane)
	}
	if s := p.Stats(); s.InUse != 3 {
		t.Fatalf("stats %+v, want 3 slots held", s)
	}
}

func TestCancelledWaiterLeaves(t *testing.T) {
	p := NewPool(1, 4)
	h := acquire(t, p, Known, "a")
	ctx, cancel := context.WithCancel(t.Context())
	done := queued(t, p, ctx, Known, "b")
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter: %v", err)
	}
	h.release()
	if s := p.Stats(); s != (Stats{}) {
		t.Fatalf("stats after all left: %+v", s)
	}
	if got := acquire(t, p, Known, "b"); got.lane != Known {
		t.Fatalf("the cancelled waiter's key is still claimed: lane %v", got.lane)
	}
}

// TestBoundsUnderLoad runs many goroutines of both lanes through a pool and
// checks, inside the work, the bounds the pool promises.
func TestBoundsUnderLoad(t *testing.T) {
	const slots = 4
	p := NewPool(slots, 1000)
	var all, ordinary, maxAll, maxOrdinary atomic.Int64
	peak := func(v *atomic.Int64, n int64) {
		for {
			old := v.Load()
			if n <= old || v.CompareAndSwap(old, n) {
				return
			}
		}
	}
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			lane := Lane(i % 2)
			got, release, err := p.Acquire(context.Background(), lane, string(rune('a'+i%7)))
			if err != nil {
				t.Error(err)
				return
			}
			peak(&maxAll, all.Add(1))
			if got == Ordinary {
				peak(&maxOrdinary, ordinary.Add(1))
			}
			for range 1000 { // some work
				_ = i * i
			}
			if got == Ordinary {
				ordinary.Add(-1)
			}
			all.Add(-1)
			release()
		})
	}
	wg.Wait()
	if maxAll.Load() > slots || maxOrdinary.Load() > slots/2 {
		t.Fatalf("peaks: %d in all (max %d), %d ordinary (max %d)", maxAll.Load(), slots, maxOrdinary.Load(), slots/2)
	}
	if s := p.Stats(); s != (Stats{}) {
		t.Fatalf("stats after all work: %+v", s)
	}
}
