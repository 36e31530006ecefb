// Package memrate counts events per key in a process's memory: a limit of
// so many events per window, for requests that store nothing, so that
// counting them writes nothing to a shared store either. Behind N processes
// a key gets up to N times the limit.
//
// A key's window starts at its first event and lasts the window's length;
// the next event after it starts a new one. Memory is bounded: at most
// MaxKeys keys are counted at once. When that many keys are inside their
// windows, an event of any other key is let through uncounted rather than
// refused, so that many keys together can never lock out one that is
// under its own limit; [Limiter.Uncounted] says how often that happened.
package memrate

import (
	"sync"
	"time"
)

// Limiter counts events per key. Create it with [New]; it is safe for
// concurrent use.
type Limiter struct {
	limit   int
	window  time.Duration
	maxKeys int

	mu        sync.Mutex
	keys      map[string]entry
	lastSweep time.Time
	uncounted int64
}

type entry struct {
	start time.Time // of the key's current window
	count int
}

// New returns a Limiter of limit events per window for each key, counting
// at most maxKeys keys at once. limit, window and maxKeys must be positive.
func New(limit int, window time.Duration, maxKeys int) *Limiter {
	if limit <= 0 || window <= 0 || maxKeys <= 0 {
		panic("memrate: limit, window and maxKeys must be positive")
	}
	return &Limiter{limit: limit, window: window, maxKeys: maxKeys, keys: map[string]entry{}}
}

// Allow counts an event of key at now. Within the limit it reports true;
// beyond it, false and how long until the key's window ends (at least a
// nanosecond), and the refused event is not counted.
func (l *Limiter) Allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.keys[key]
	if ok && !now.Before(e.start.Add(l.window)) {
		ok = false // its window is over: a new one starts
	}
	if !ok {
		l.sweep(now)
		if _, had := l.keys[key]; !had && len(l.keys) >= l.maxKeys {
			l.uncounted++
			return true, 0
		}
		e = entry{start: now}
	}
	if e.count >= l.limit {
		return false, max(e.start.Add(l.window).Sub(now), time.Nanosecond)
	}
	e.count++
	l.keys[key] = e
	return true, 0
}

// sweep forgets the keys whose window is over: once a window at least, and
// when the table is full once a quarter window at most, so that its cost
// per event stays constant.
func (l *Limiter) sweep(now time.Time) {
	since := now.Sub(l.lastSweep)
	if since < l.window/4 || since < l.window && len(l.keys) < l.maxKeys {
		return
	}
	l.lastSweep = now
	for k, e := range l.keys {
		if !now.Before(e.start.Add(l.window)) {
			delete(l.keys, k)
		}
	}
}

// Uncounted says how many events were let through uncounted because
// MaxKeys keys were being counted.
func (l *Limiter) Uncounted() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.uncounted
}
