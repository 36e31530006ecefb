// Package fakeclock is the clock tests move by hand, shared by the tests of
// the handlers and of the client so that neither sleeps.
package fakeclock

import (
	"sync"
	"time"
)

// Clock is a time that moves only when Advance is called; safe for
// concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a clock at a fixed instant, so that tests read alike from
// run to run.
func New() *Clock { return At(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) }

// At returns a clock at t.
func At(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
