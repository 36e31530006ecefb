package outbox

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	b := Backoff{First: 30 * time.Second, Window: time.Hour}
	c := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		now      time.Duration // since creation
		attempts int
		want     time.Duration // since creation; -1: give up
	}{
		{0, 1, 30 * time.Second},
		{30 * time.Second, 2, 90 * time.Second},
		{90 * time.Second, 3, 210 * time.Second},
		{10 * time.Minute, 6, 10*time.Minute + 16*time.Minute},
		{50 * time.Minute, 8, time.Hour}, // capped at the window's end
		{time.Hour, 9, -1},
		{2 * time.Hour, 1, -1},
		{0, 1000, time.Hour}, // no overflow
	} {
		next, ok := b.Next(c, c.Add(tc.now), tc.attempts)
		switch {
		case tc.want < 0 && ok:
			t.Errorf("Next(%v, %d) = %v, want give up", tc.now, tc.attempts, next.Sub(c))
		case tc.want >= 0 && (!ok || !next.Equal(c.Add(tc.want))):
			t.Errorf("Next(%v, %d) = %v %v, want %v", tc.now, tc.attempts, next.Sub(c), ok, tc.want)
		}
	}
}

// TestPoolSlowWorkHoldsOneWorker: while one attempt hangs, the other workers
// keep handling records.
func TestPoolSlowWorkHoldsOneWorker(t *testing.T) {
	var handled atomic.Int64
	stuck, hundred := make(chan struct{}), make(chan struct{})
	var first atomic.Bool
	p := &Pool{Workers: 4, Poll: time.Hour, Work: func(ctx context.Context) bool {
		if first.CompareAndSwap(false, true) {
			close(stuck)
			<-ctx.Done() // hangs until Stop
			return true
		}
		<-stuck
		n := handled.Add(1)
		if n == 100 {
			close(hundred)
		}
		return n < 100
	}}
	p.Start()
	defer p.Stop()
	select {
	case <-hundred:
	case <-time.After(10 * time.Second):
		t.Fatalf("handled %d records beside a stuck attempt, want 100", handled.Load())
	}
}

// TestPoolWake: an idle worker looks again at Wake, long before its poll.
func TestPoolWake(t *testing.T) {
	calls := make(chan struct{}, 10)
	p := &Pool{Workers: 1, Poll: time.Hour, Work: func(ctx context.Context) bool {
		calls <- struct{}{}
		return false
	}}
	p.Start()
	defer p.Stop()
	<-calls // the first look, at start
	p.Wake()
	select {
	case <-calls:
	case <-time.After(10 * time.Second):
		t.Fatal("Wake did not make the worker look again")
	}
}

// TestPoolStopCancels: Stop cancels an attempt in flight and waits for it.
func TestPoolStopCancels(t *testing.T) {
	var done atomic.Bool
	started := make(chan struct{})
	p := &Pool{Workers: 1, Poll: time.Hour, Work: func(ctx context.Context) bool {
		close(started)
		<-ctx.Done()
		done.Store(true)
		return true
	}}
	p.Start()
	<-started
	p.Stop()
	if !done.Load() {
		t.Fatal("Stop returned before the attempt ended")
	}
	p.Stop() // twice is fine
	(&Pool{}).Stop()
}

func TestNewClaim(t *testing.T) {
	if a, b := NewClaim(), NewClaim(); a == b || len(a) < 20 {
		t.Fatalf("claims %q %q", a, b)
	}
}
