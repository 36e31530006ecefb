// This file holds the throttling of failed sign-ins, per submitted account
// and per client address, with counters kept in the Store so that every
// instance sharing it shares the limits. No handler sleeps: a locked key is
// answered 429 at once.

package pbxauth

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Throttling policy (DESIGN.md, "Settled details").
const (
	accountFailures = 5                // consecutive failures that lock an account key
	accountLockBase = time.Minute      // first lock; doubles per further lock
	accountLockMax  = 30 * time.Minute // longest lock
	accountMemory   = 24 * time.Hour   // how long lock history is kept after the last failure
	ipFailures      = 100              // failures per window that lock an address
	ipWindow        = 15 * time.Minute
	ipLock          = 15 * time.Minute
	casRetries      = 16 // compare-and-swap attempts before giving up
)

// accountKey is the throttling key of a submitted (domain, username),
// whether or not it exists, so a 429 tells nothing about existence. A space
// separates the two: neither may contain one, and unlike NUL every SQL text
// type can hold it.
func accountKey(domain, username string) string {
	return "signin:" + strings.ToLower(domain) + " " + strings.ToLower(username)
}

func ipKey(ip string) string { return "signin-ip:" + ip }

// lockedFor returns how long the key stays locked, 0 when it is not.
func (a *Auth) lockedFor(ctx context.Context, key string, now time.Time) (time.Duration, error) {
	c, err := a.store.Counter(ctx, key, now)
	if err != nil {
		return 0, err
	}
	if c.LockedUntil.After(now) {
		return c.LockedUntil.Sub(now), nil
	}
	return 0, nil
}

// checkThrottle answers 429 when the address or the account key is locked.
func (a *Auth) checkThrottle(ctx context.Context, acct, ip string, now time.Time) *apiError {
	for _, key := range []string{ipKey(ip), acct} {
		d, err := a.lockedFor(ctx, key, now)
		if err != nil {
			return a.internal(ctx, "read throttle counter", err)
		}
		if d > 0 {
			return tooManyRequests(d)
		}
	}
	return nil
}

// updateCounter applies change to the counter under key with
// compare-and-swap, retrying when another writer got there first.
func (a *Auth) updateCounter(ctx context.Context, key string, now time.Time, change func(*Counter)) (Counter, error) {
	for range casRetries {
		c, err := a.store.Counter(ctx, key, now)
		if err != nil {
			return c, err
		}
		change(&c)
		err = a.store.PutCounter(ctx, c, now)
		if !errors.Is(err, ErrConflict) {
			return c, err
		}
	}
	return Counter{}, errors.New("pbxauth: counter contention on " + key)
}

// recordFailure counts a failed sign-in against the account key and the
// address; it reports whether the account key just became locked.
func (a *Auth) recordFailure(ctx context.Context, acct, ip string, now time.Time) (locked bool, err error) {
	_, err = a.updateCounter(ctx, acct, now, func(c *Counter) {
		locked = false // the change may run again after a lost swap
		c.Count++
		if c.Count >= accountFailures {
			locked = true
			c.Count = 0
			c.Locks++
			d := accountLockBase << min(c.Locks-1, 5)
			c.LockedUntil = now.Add(min(d, accountLockMax))
		}
		c.ExpiresAt = now.Add(accountMemory)
	})
	if err != nil {
		return false, err
	}
	_, err = a.updateCounter(ctx, ipKey(ip), now, func(c *Counter) {
		restartWindow(c, now, ipWindow)
		c.Count++
		if c.Count >= ipFailures && !c.LockedUntil.After(now) {
			c.LockedUntil = now.Add(ipLock)
			c.Locks++
		}
		c.ExpiresAt = c.WindowStart.Add(ipWindow)
		if c.LockedUntil.After(c.ExpiresAt) {
			c.ExpiresAt = c.LockedUntil
		}
	})
	return locked, err
}

// restartWindow starts a new fixed window of length d at now, with a zero
// count, when c has none or its window has passed.
func restartWindow(c *Counter, now time.Time, d time.Duration) {
	if c.WindowStart.IsZero() || !now.Before(c.WindowStart.Add(d)) {
		c.WindowStart, c.Count = now, 0
	}
}

// recordSuccess resets the account key after a correct password.
func (a *Auth) recordSuccess(ctx context.Context, acct string) error {
	return a.store.DeleteCounter(ctx, acct)
}
