// Package outbox is the mechanism under pbxauth's durable mail: a pool of
// workers that each claim one due record at a time under a lease, the
// exponential backoff between attempts, and the window after which a record
// is given up. It knows nothing of mail or of pbxauth: the caller's Work
// function claims, sends and reschedules through its own store.
package outbox

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"
)

// Lease is how long a claim holds a record. A worker that dies with a claim
// gives the record back to every other worker when its lease runs out.
const Lease = 2 * time.Minute

// AttemptTimeout bounds one attempt, well inside its lease, so that a worker
// never holds a record its lease no longer covers.
const AttemptTimeout = 60 * time.Second

// NewClaim returns a random claim identifier: a store grants an update or a
// removal of a claimed record only to the holder of its current claim.
func NewClaim() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Backoff is the retry schedule: First after the first failure, doubling
// after each further one, for as long as Window lasts from a record's
// creation.
type Backoff struct {
	First  time.Duration // must be positive
	Window time.Duration
}

// Next returns when a record created at created should be tried again after
// its attempts-th failed attempt (1 for the first), decided at now; ok is
// false when that would be past the window: the record is to be given up.
// The last retry is moved to the window's end rather than skipped, so a
// record is tried for the whole window.
func (b Backoff) Next(created, now time.Time, attempts int) (next time.Time, ok bool) {
	end := created.Add(b.Window)
	if !now.Before(end) {
		return time.Time{}, false
	}
	d := b.First
	for i := 1; i < attempts && d < b.Window; i++ {
		d *= 2
	}
	next = now.Add(d)
	if next.After(end) {
		next = end
	}
	return next, true
}

// Pool runs Workers goroutines that call Work until Stop. Work claims and
// handles at most one record and reports whether it found one; a worker
// that found nothing waits Poll, or until Wake, before asking again. A
// worker that found one asks again at once, so a backlog drains at full
// speed, and a slow attempt holds only its own worker.
type Pool struct {
	Workers int
	Poll    time.Duration
	// Work handles one record under ctx, which ends at Stop and after
	// AttemptTimeout.
	Work func(ctx context.Context) (found bool)

	once   sync.Once
	wake   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Start starts the workers; it is called once.
func (p *Pool) Start() {
	p.once.Do(func() {
		p.wake = make(chan struct{}, p.Workers)
		p.ctx, p.cancel = context.WithCancel(context.Background())
		for range p.Workers {
			p.wg.Go(p.run)
		}
	})
}

// Wake makes one waiting worker look for work now (a record was just
// added). It never blocks.
func (p *Pool) Wake() {
	if p.wake == nil {
		return
	}
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Stop cancels the attempts in flight and waits for every worker to return.
// It is safe to call more than once, and before Start.
func (p *Pool) Stop() {
	p.once.Do(func() {}) // a pool stopped before it started never starts
	if p.cancel != nil {
		p.cancel()
	}
	p.wg.Wait()
}

func (p *Pool) run() {
	t := time.NewTimer(p.Poll)
	defer t.Stop()
	for p.ctx.Err() == nil {
		if p.attempt() {
			continue
		}
		t.Reset(p.Poll)
		select {
		case <-p.ctx.Done():
			return
		case <-p.wake:
		case <-t.C:
		}
	}
}

func (p *Pool) attempt() bool {
	ctx, cancel := context.WithTimeout(p.ctx, AttemptTimeout)
	defer cancel()
	return p.Work(ctx)
}
