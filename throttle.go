// This file is the one home of the locks and rates of Config.Limits: the
// attempt slots that cap how many secrets (passwords, codes) are checked
// per key and lock cycle, the per-address lock, and fixed-window rates. All
// counters live in the Store, so concurrent requests — on one instance or
// many — share them. No handler sleeps: a locked key is answered 429 at
// once.
//
// A refusal writes nothing (DESIGN.md "Limits"): every limit is first
// read, and a request the read refuses is answered from it. One that may
// go on takes its place with one AddCounterBelow, which adds only while a
// place is left, so concurrent requests cannot slip past a limit between
// the read and the write; the one that finds the last place taken meanwhile
// is refused too, having changed nothing. Only requests that go on to the
// check they were limiting write more.
//
// Keys of a lock (policy P, key K):
//
//	P-lock:K    live while K is locked; it expires when the lock ends
//	P-locks:K   how many locks since the last success (the doubling)
//	P-cycle:K   the number of the current lock cycle
//	P-slots:K#C attempts taken in cycle C (checked, or being checked)
//	P-fails:K#C failures in cycle C
//
// A lock and a success both start a new cycle, so the slots of the old one
// are left behind at once, even while refunds for it are still arriving.

package pbxauth

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pbxauth/pbxauth/internal/asciifold"
	"github.com/pbxauth/pbxauth/store"
)

// forever is how long a lock "until an unlock" lasts.
const forever = 100 * 365 * 24 * time.Hour

// lockPolicy is one lock of the limits table.
type lockPolicy struct {
	name     string // key prefix
	attempts int    // slots per cycle; that many failures lock
	first    time.Duration
	longest  time.Duration
	memory   time.Duration // failures and locks are forgotten that long after the last attempt
	forever  int           // consecutive failures that lock until an unlock; 0: never
}

func (p lockPolicy) key(kind, k string) string { return p.name + "-" + kind + ":" + k }

// accountKey is the lock key of a submitted (domain, username), whether or
// not it exists, so a 429 tells nothing about existence. A space separates
// the two: neither may contain one, and unlike NUL every SQL text type can
// hold it.
func accountKey(domain, username string) string {
	return "account " + asciifold.Lower(domain) + " " + asciifold.Lower(username)
}

// deviceKey is the lock key of a known device, and userKey that of a user's
// second factor.
func deviceKey(d store.Device) string { return "device " + d.ID }
func userKey(userID string) string    { return "user " + userID }

// attempt is a slot taken in a lock cycle, to be ended with exactly one of
// refund, fail or succeed.
type attempt struct {
	a     *Auth
	p     lockPolicy
	key   string
	cycle string
}

// locked reads whether key is locked at now, and for how long.
func (a *Auth) locked(ctx context.Context, p lockPolicy, key string, now time.Time) (time.Duration, error) {
	c, err := a.store().Counter(ctx, p.key("lock", key), now)
	if err != nil || c.Count == 0 {
		return 0, err
	}
	return c.ExpiresAt.Sub(now), nil
}

// takeAttempt takes a slot of key's cycle before the secret is checked. It
// answers 429 when key is locked or every slot of the cycle is taken, and
// takes nothing then.
func (a *Auth) takeAttempt(ctx context.Context, p lockPolicy, key string, now time.Time) (*attempt, *apiError) {
	t, e := a.readAttempt(ctx, p, key, now)
	if e == nil {
		e = t.take(ctx, now)
	}
	if e != nil {
		return nil, e
	}
	return t, nil
}

// readAttempt reads whether a secret of key may be checked now: 429 when
// key is locked or every slot of its cycle is taken, without a write.
// Otherwise it returns the attempt, whose slot take then takes.
//
// The cycle is read before the lock: a lock is stored before the cycle it
// begins (fail), so a request that finds the new cycle finds the lock
// too, and one that finds the old cycle finds its slots all taken — the
// failures that locked it keep theirs.
func (a *Auth) readAttempt(ctx context.Context, p lockPolicy, key string, now time.Time) (*attempt, *apiError) {
	cycle, err := a.store().Counter(ctx, p.key("cycle", key), now)
	if err != nil {
		return nil, a.internal(ctx, "read lock cycle", err)
	}
	if d, err := a.locked(ctx, p, key, now); err != nil || d > 0 {
		return nil, a.lockedAnswer(ctx, d, err)
	}
	t := &attempt{a: a, p: p, key: key, cycle: "#" + strconv.Itoa(cycle.Count)}
	slots, err := a.store().Counter(ctx, t.slotKey(), now)
	if err != nil {
		return nil, a.internal(ctx, "read attempts", err)
	}
	if slots.Count >= p.attempts {
		return nil, errSlotsTaken
	}
	return t, nil
}

// errSlotsTaken: every slot of the cycle is taken by attempts being
// checked; they end within a hash or two.
var errSlotsTaken = tooManyRequests(time.Second)

// take takes the slot readAttempt found free, with one conditional add: a
// request that finds the last one taken meanwhile is 429, having changed
// nothing.
func (t *attempt) take(ctx context.Context, now time.Time) *apiError {
	_, ok, err := t.a.store().AddCounterBelow(ctx, t.slotKey(), t.p.attempts, now.Add(t.p.memory), now)
	if err != nil {
		return t.a.internal(ctx, "take attempt", err)
	}
	if !ok {
		return errSlotsTaken
	}
	return nil
}

func (a *Auth) lockedAnswer(ctx context.Context, d time.Duration, err error) *apiError {
	if err != nil {
		return a.internal(ctx, "read lock", err)
	}
	return tooManyRequests(d)
}

func (t *attempt) slotKey() string { return t.p.key("slots", t.key+t.cycle) }

// refund gives the slot back: the attempt ended before its secret was
// checked (hashing busy, the client gone). It outlives the request.
func (t *attempt) refund(ctx context.Context) {
	ctx = context.WithoutCancel(ctx)
	if _, err := t.a.store().AddCounter(ctx, t.slotKey(), -1, time.Time{}, t.a.now()); err != nil {
		t.a.log.WarnContext(ctx, "pbxauth: refund attempt", "err", err)
	}
}

// fail records a wrong secret; the slot stays taken. The failure that
// fills the cycle locks the key and starts a new cycle. It reports whether
// it locked and, if so, which lock since the last success this is (1 for
// the first) and how long it lasts.
func (t *attempt) fail(ctx context.Context, now time.Time) (lock int, d time.Duration, err error) {
	ctx = context.WithoutCancel(ctx) // a client that hangs up still failed
	a, p := t.a, t.p
	fails, err := a.store().AddCounter(ctx, p.key("fails", t.key+t.cycle), 1, now.Add(p.memory), now)
	if err != nil {
		return 0, 0, err
	}
	if fails.Count != p.attempts {
		// The cycle lives as long as its failures are remembered: taking
		// a slot only reads it.
		_, err = a.store().AddCounter(ctx, p.key("cycle", t.key), 0, now.Add(p.memory), now)
		return 0, 0, err
	}
	locks, err := a.store().AddCounter(ctx, p.key("locks", t.key), 1, now.Add(p.memory), now)
	if err != nil {
		return 0, 0, err
	}
	d = p.first << min(locks.Count-1, 20)
	if d <= 0 || d > p.longest {
		d = p.longest
	}
	if p.forever > 0 && locks.Count*p.attempts >= p.forever {
		d = forever
	}
	// The lock first, then the new cycle: whoever finds the new cycle
	// finds the lock too.
	if _, err := a.store().AddCounter(ctx, p.key("lock", t.key), 1, now.Add(d), now); err != nil {
		return 0, 0, err
	}
	_, err = a.store().AddCounter(ctx, p.key("cycle", t.key), 1, now.Add(d+p.memory), now)
	return locks.Count, d, err
}

// succeed records a correct secret: every slot is free again (a new cycle)
// and the doubling starts over.
func (t *attempt) succeed(ctx context.Context, now time.Time) error {
	return t.a.resetLock(context.WithoutCancel(ctx), t.p, t.key, now)
}

// resetLock ends key's lock, if any, and starts it over: what a success
// does, and what clearing a user's counters does.
func (a *Auth) resetLock(ctx context.Context, p lockPolicy, key string, now time.Time) error {
	if err := a.store().DeleteCounter(ctx, p.key("locks", key)); err != nil {
		return err
	}
	if err := a.store().DeleteCounter(ctx, p.key("lock", key)); err != nil {
		return err
	}
	_, err := a.store().AddCounter(ctx, p.key("cycle", key), 1, now.Add(p.memory), now)
	return err
}

// addressKey is the client's address as the per-address limits count it:
// IPv4-mapped addresses unmapped, IPv6 grouped by Limits.IPv6Prefix. A
// client that a trusted proxy named by an entry that is no address counts
// under that entry's key, never under the proxy's address or network.
func (a *Auth) addressKey(r *http.Request) string {
	c := a.client(r)
	if c.key != "" {
		return c.key
	}
	ip := c.addr
	if ip.Is6() {
		if p, err := ip.Prefix(a.cfg.Limits.IPv6Prefix); err == nil {
			return p.String()
		}
	}
	return ip.String()
}

// window returns the fixed window of length d of key that holds now: a
// suffix for its counter's key, and its end. A key's windows are
// consecutive slices of d from its first event, as long as it has one at
// least every d (an anchor counter remembers the first; an event rate
// refuses is not one); after a quiet d the next event starts them anew.
// So "3 in 15 minutes" counts 15 minutes from the first, not from a tick of
// the clock.
func (a *Auth) window(ctx context.Context, key string, d time.Duration, now time.Time) (string, time.Time, error) {
	anchor, err := a.store().AddCounter(ctx, key+"@", 0, now.Add(d), now)
	if err != nil {
		return "", time.Time{}, err
	}
	suffix, end := windowAt(anchor.WindowStart, d, now)
	return suffix, end, nil
}

// windowAt returns the window of length d that holds now, of windows
// counted from start.
func windowAt(start time.Time, d time.Duration, now time.Time) (string, time.Time) {
	n := now.Sub(start) / d
	return "#" + strconv.FormatInt(int64(n), 10), start.Add((n + 1) * d)
}

// rate counts one event against limit per window of length d under key,
// and answers 429 (Retry-After: the window's end) beyond it: readRate and
// then take. refund takes the event back when it did not happen.
func (a *Auth) rate(ctx context.Context, key string, limit int, d time.Duration, now time.Time) (refund func(), e *apiError) {
	p, e := a.readRate(ctx, key, limit, d, now)
	if e != nil {
		return nil, e
	}
	return p.take(ctx, now)
}

// ratePlace is a place in a rate that readRate found free, for take.
type ratePlace struct {
	a       *Auth
	key     string // the rate's key; its anchor is key+"@"
	counter string // the counter of the window that holds now
	limit   int
	d       time.Duration
	end     time.Time // of the window
}

// readRate reads whether one more event fits limit in the window of length
// d under key that holds now: the window and its count are read, and an
// event over the limit is refused (429) from what was read, writing
// nothing. Otherwise it returns the place, which take then takes; a
// handler that must read other limits first refuses from all its reads
// before it takes any place.
func (a *Auth) readRate(ctx context.Context, key string, limit int, d time.Duration, now time.Time) (*ratePlace, *apiError) {
	anchor, err := a.store().Counter(ctx, key+"@", now)
	if err != nil {
		return nil, a.rateFailed(ctx, key, err)
	}
	start := anchor.WindowStart
	if anchor.Version == 0 {
		start = now // none: this event starts the windows
	}
	suffix, end := windowAt(start, d, now)
	p := &ratePlace{a: a, key: key, counter: key + suffix, limit: limit, d: d, end: end}
	c, err := a.store().Counter(ctx, p.counter, now)
	if err != nil {
		return nil, a.rateFailed(ctx, key, err)
	}
	if c.Count >= limit {
		return nil, tooManyRequests(end.Sub(now))
	}
	return p, nil
}

// take takes the place readRate found free, with one conditional add (a
// request that finds the last place taken meanwhile is refused, having
// changed nothing), and keeps the windows' anchor alive. refund takes the
// event back.
func (p *ratePlace) take(ctx context.Context, now time.Time) (refund func(), e *apiError) {
	a := p.a
	if _, ok, err := a.store().AddCounterBelow(ctx, p.counter, p.limit, p.end, now); err != nil {
		return nil, a.rateFailed(ctx, p.key, err)
	} else if !ok {
		return nil, tooManyRequests(p.end.Sub(now))
	}
	// A window's counter expires at its end, and the anchor not before the
	// end of the window of its last event: no window outlives its anchor.
	if _, err := a.store().AddCounter(ctx, p.key+"@", 0, now.Add(p.d), now); err != nil {
		return nil, a.rateFailed(ctx, p.key, err)
	}
	refund = func() {
		if _, err := a.store().AddCounter(context.WithoutCancel(ctx), p.counter, -1, p.end, a.now()); err != nil {
			a.log.WarnContext(ctx, "pbxauth: refund rate", "err", err)
		}
	}
	return refund, nil
}

// rateFailed answers a Store failure of counting key's rate.
func (a *Auth) rateFailed(ctx context.Context, key string, err error) *apiError {
	return a.internal(ctx, "count "+strings.SplitN(key, ":", 2)[0], err)
}

// addressLocked answers 429 when the client's address is locked.
func (a *Auth) addressLocked(ctx context.Context, addr string, now time.Time) *apiError {
	c, err := a.store().Counter(ctx, "address-lock:"+addr, now)
	if err != nil {
		return a.internal(ctx, "read address lock", err)
	}
	if c.Count > 0 {
		return tooManyRequests(c.ExpiresAt.Sub(now))
	}
	return nil
}

// addressFailed counts a failed sign-in from addr; the one that reaches
// Limits.AddressFailures in the window locks the address.
func (a *Auth) addressFailed(ctx context.Context, addr string, now time.Time) error {
	l := a.cfg.Limits
	ctx = context.WithoutCancel(ctx)
	key := "address-fails:" + addr
	suffix, end, err := a.window(ctx, key, l.AddressWindow, now)
	if err != nil {
		return err
	}
	c, err := a.store().AddCounter(ctx, key+suffix, 1, end, now)
	if err != nil || c.Count != l.AddressFailures {
		return err
	}
	_, err = a.store().AddCounter(ctx, "address-lock:"+addr, 1, now.Add(l.AddressLock), now)
	return err
}

// clearLimits lifts the sign-in lock of the submitted (domain, username)
// and the lock of userID's second factor, and starts both over: what an
// unlock by an administrator does. A known device has locks of its own,
// which the Store cannot list by user; so the user's devices are forgotten
// instead, and their next sign-ins count on the cleared keys.
func (a *Auth) clearLimits(ctx context.Context, domain, username, userID string) error {
	l, now := a.cfg.Limits, a.now()
	if err := a.forgetDevices(ctx, userID); err != nil {
		return err
	}
	if err := a.resetLock(ctx, l.passwordLock(), accountKey(domain, username), now); err != nil {
		return err
	}
	return a.resetLock(ctx, l.codeLock(), userKey(userID), now)
}
