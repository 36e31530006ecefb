// This file holds the lanes: a bounded pool of hashing slots after OWASP's
// "device cookies". Work for a known device may use every slot and is
// dequeued first; all other work holds at most half of the slots (at least
// one). So a guessing attack that saturates hashing from unknown clients
// cannot keep a known device from signing in. Keys are opaque (a user).

package hasher

import (
	"context"
	"errors"
	"sync"
)

// Lane is the class of a piece of work.
type Lane int

const (
	// Ordinary work holds at most half of the slots and waits behind
	// every Known waiter.
	Ordinary Lane = iota
	// Known work may take any slot and is dequeued first; one piece per
	// key at a time (see [Pool.Acquire]).
	Known
)

// ErrBusy is returned when the lane's queue is full: the caller answers 503
// instead of waiting.
var ErrBusy = errors.New("hasher: queue full")

// Pool hands out slots. It is safe for concurrent use.
type Pool struct {
	slots, ordinaryMax, queue int

	mu       sync.Mutex
	inUse    int            // slots held, both lanes
	ordinary int            // slots held by Ordinary work
	waiting  [2][]*waiter   // FIFO per lane
	keys     map[string]int // Known keys in flight (queued or running)
}

type waiter struct {
	lane  Lane
	ready chan struct{} // closed when the slot is granted
}

// NewPool returns a pool of slots (at least 1) in which each lane may queue up
// to queue waiters (0: none wait, ErrBusy at once when no slot is free).
func NewPool(slots, queue int) *Pool {
	slots = max(slots, 1)
	return &Pool{slots: slots, ordinaryMax: max(slots/2, 1), queue: max(queue, 0), keys: map[string]int{}}
}

// Slots returns the pool's size.
func (p *Pool) Slots() int { return p.slots }

// OrdinarySlots returns how many slots Ordinary work may hold at once.
func (p *Pool) OrdinarySlots() int { return p.ordinaryMax }

// Acquire takes a slot in lane, waiting in the lane's queue when none is
// free for it; it fails with ErrBusy when that queue is full, or with the
// context's error when ctx ends first. Known work carries a key (a user):
// while work of that key is queued or running in the Known lane, further
// work with it goes to the Ordinary lane, so one stolen key cannot claim
// the favoured lane many times over. Acquire returns the lane used and a
// release function to call exactly once when the work is done.
func (p *Pool) Acquire(ctx context.Context, lane Lane, key string) (Lane, func(), error) {
	p.mu.Lock()
	if lane == Known && p.keys[key] > 0 {
		lane = Ordinary
	}
	if lane == Known {
		p.keys[key]++
	}
	if p.canRun(lane) && len(p.waiting[lane]) == 0 && (lane == Known || len(p.waiting[Known]) == 0) {
		p.take(lane)
		p.mu.Unlock()
		return lane, p.releaser(lane, key), nil
	}
	if len(p.waiting[lane]) >= p.queue {
		p.forget(lane, key)
		p.mu.Unlock()
		return lane, nil, ErrBusy
	}
	w := &waiter{lane: lane, ready: make(chan struct{})}
	p.waiting[lane] = append(p.waiting[lane], w)
	p.mu.Unlock()

	select {
	case <-w.ready:
		return lane, p.releaser(lane, key), nil
	case <-ctx.Done():
		p.mu.Lock()
		defer p.mu.Unlock()
		select {
		case <-w.ready: // granted meanwhile: give the slot on
			p.give(lane)
		default:
			p.remove(w)
		}
		p.forget(lane, key)
		return lane, nil, ctx.Err()
	}
}

// canRun says whether work of lane could take a slot now; p.mu is held.
func (p *Pool) canRun(lane Lane) bool {
	return p.inUse < p.slots && (lane == Known || p.ordinary < p.ordinaryMax)
}

// take counts a slot as held by lane; p.mu is held.
func (p *Pool) take(lane Lane) {
	p.inUse++
	if lane == Ordinary {
		p.ordinary++
	}
}

// forget drops a Known key's claim; p.mu is held.
func (p *Pool) forget(lane Lane, key string) {
	if lane != Known {
		return
	}
	if p.keys[key]--; p.keys[key] <= 0 {
		delete(p.keys, key)
	}
}

func (p *Pool) remove(w *waiter) {
	q := p.waiting[w.lane]
	for i, o := range q {
		if o == w {
			p.waiting[w.lane] = append(q[:i:i], q[i+1:]...)
			return
		}
	}
}

// give frees a slot of lane and hands free slots to waiters, Known ones
// first; p.mu is held.
func (p *Pool) give(lane Lane) {
	p.inUse--
	if lane == Ordinary {
		p.ordinary--
	}
	for _, l := range []Lane{Known, Ordinary} {
		for len(p.waiting[l]) > 0 && p.canRun(l) {
			w := p.waiting[l][0]
			p.waiting[l] = p.waiting[l][1:]
			p.take(l)
			close(w.ready)
		}
	}
}

func (p *Pool) releaser(lane Lane, key string) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.forget(lane, key)
			p.give(lane)
		})
	}
}

// Stats is a snapshot of a pool, for tests and metrics.
type Stats struct {
	InUse, Ordinary           int // slots held: all, by Ordinary work
	KnownQueue, OrdinaryQueue int // waiters per lane
}

// Stats returns a snapshot.
func (p *Pool) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Stats{InUse: p.inUse, Ordinary: p.ordinary, KnownQueue: len(p.waiting[Known]), OrdinaryQueue: len(p.waiting[Ordinary])}
}
