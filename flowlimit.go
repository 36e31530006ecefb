// This file limits the requests that create a flow without credentials —
// POST /auth/sign_in/{provider}, POST /login/by_microsoft, POST
// /auth/forget_password — which anyone may send: a rate per client address,
// counted in the Store, or in this instance's memory for the Microsoft
// starts that store nothing (with Config.EncryptionKeys, msstate.go); and,
// for Microsoft states stored without keys, a bound on those alive in all
// and a share of it per client network.

package pbxauth

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/pbxauth/pbxauth/internal/memrate"
	"github.com/pbxauth/pbxauth/store"
)

var errTooManyStates = &apiError{status: http.StatusServiceUnavailable, code: CodeUnavailable, message: "too many sign-ins in progress, try again", retryAfter: 5 * time.Second}

// startKeys bounds how many client addresses the in-memory count of
// Microsoft starts follows at once (some 100 bytes each); beyond, further
// addresses pass uncounted rather than being refused, as those starts
// store nothing.
const startKeys = 100_000

// newStartCounter counts Microsoft starts per client address in memory.
func newStartCounter(limit int, window time.Duration) *memrate.Limiter {
	return memrate.New(limit, window, startKeys)
}

// limitMicrosoftStart applies Limits.FlowStarts to a Microsoft start, before
// anything else is read: in this instance's memory when the start stores
// nothing (EncryptionKeys), else in the Store with the other flow starts.
// A start that will be stored is first refused from a read when its
// network's share of the stored states (or the bound on them all) is
// full, so that such a refusal takes no place in its address's rate: it
// writes nothing (reserveState counts the state itself later).
func (a *Auth) limitMicrosoftStart(r *http.Request) *apiError {
	if a.starts == nil {
		ctx, now := r.Context(), a.now()
		_, n := a.stateBucket(now)
		if _, e := a.countStates(ctx, a.networkKey(r), n, now); e != nil {
			return e
		}
		return a.limitFlowStart(r)
	}
	if ok, wait := a.starts.Allow(a.addressKey(r), a.now()); !ok {
		return tooManyRequests(wait)
	}
	return nil
}

// limitFlowStart counts the request against its address's
// Limits.FlowStarts per Limits.FlowStartWindow, before anything else is
// read, and answers 429 beyond. It never depends on the user, so it tells
// nothing about one.
func (a *Auth) limitFlowStart(r *http.Request) *apiError {
	l := a.cfg.Limits
	_, e := a.rate(r.Context(), "flow-starts:"+a.addressKey(r), l.FlowStarts, l.FlowStartWindow, a.now())
	return e
}

// stateBuckets is how many buckets one FlowTTL spans in the count of live
// Microsoft states: a state is counted in the bucket of its creation, so
// the live ones are in the buckets of the last FlowTTL and one more. An
// expired state that was never consumed still counts until its bucket
// leaves that span, at most FlowTTL/stateBuckets after it expired: the
// bound errs on the safe side.
const stateBuckets = 5

// stateBucket returns the key of the bucket that holds time t, and the
// bucket's number.
func (a *Auth) stateBucket(t time.Time) (string, int64) {
	n := t.UnixNano() / int64(a.cfg.FlowTTL/stateBuckets)
	return "ms-states#" + strconv.FormatInt(n, 10), n
}

// networkKey is the client's network as the share of stored states
// counts it: its IPv4 /24 or IPv6 /48, what one customer of a provider
// commonly holds. A forwarded entry that is no address (a fwd: key) is
// a network of its own, never the proxy's.
func (a *Auth) networkKey(r *http.Request) string {
	c := a.client(r)
	if c.key != "" {
		return c.key
	}
	ip := c.addr
	bits := 24
	if ip.Is6() {
		bits = 48
	}
	if p, err := ip.Prefix(bits); err == nil {
		return p.String()
	}
	return ip.String()
}

// networkShare is how many stored states one client network may hold: 1%
// of Limits.PendingStates, at least one.
func (a *Auth) networkShare() int { return max(1, a.cfg.Limits.PendingStates/100) }

// netStates is the prefix of the counters of a network's stored states.
func netStates(network string) string { return "ms-states-net:" + network }

// stateCounts reads the live count of the states under prefix: the sum of
// the buckets of the last FlowTTL and one more, and apart the count of
// the newest, n.
func (a *Auth) stateCounts(ctx context.Context, prefix string, n int64, now time.Time) (older, newest int, err error) {
	for i := range int64(stateBuckets + 1) {
		c, err := a.store().Counter(ctx, prefix+"#"+strconv.FormatInt(n-i, 10), now)
		if err != nil {
			return 0, 0, err
		}
		if i == 0 {
			newest = c.Count
		} else {
			older += c.Count
		}
	}
	return older, newest, nil
}

// liveStates is the live count of the stored states, all and of one
// network, as read: the buckets before the newest apart.
type liveStates struct{ olderAll, newestAll, olderNet, newestNet int }

// countStates reads the live count of the stored states and of network's,
// with n the newest bucket, and answers the refusal of one more (statesFull)
// from that read, having written nothing.
func (a *Auth) countStates(ctx context.Context, network string, n int64, now time.Time) (liveStates, *apiError) {
	var c liveStates
	var err error
	c.olderAll, c.newestAll, err = a.stateCounts(ctx, "ms-states", n, now)
	if err == nil {
		c.olderNet, c.newestNet, err = a.stateCounts(ctx, netStates(network), n, now)
	}
	if err != nil {
		return c, a.internal(ctx, "count Microsoft states", err)
	}
	return c, a.statesFull(ctx, c.olderAll+c.newestAll+1, c.olderNet+c.newestNet+1)
}

// reserveState counts a Microsoft state about to be stored for a client of
// network. It answers 503 when Limits.PendingStates would be exceeded,
// and 429 when the network would hold more than its share. Both are read
// first, so a refused start writes nothing; only a start that found room
// counts itself, in the newest bucket, and checks the counts that add
// returned, so concurrent starts cannot all slip under a bound: one that
// lost such a race takes its counts back.
func (a *Auth) reserveState(ctx context.Context, network string) *apiError {
	now := a.now()
	key, n := a.stateBucket(now)
	netKey := netStates(network) + "#" + strconv.FormatInt(n, 10)
	c, e := a.countStates(ctx, network, n, now)
	if e != nil {
		return e
	}
	olderAll, olderNet := c.olderAll, c.olderNet
	width := a.cfg.FlowTTL / stateBuckets
	end := time.Unix(0, (n+1)*int64(width)).Add(a.cfg.FlowTTL)
	all, err := a.store().AddCounter(ctx, key, 1, end, now)
	if err != nil {
		return a.internal(ctx, "count Microsoft states", err)
	}
	nc, err := a.store().AddCounter(ctx, netKey, 1, end, now)
	if err != nil {
		a.releaseCount(ctx, key, now)
		return a.internal(ctx, "count Microsoft states", err)
	}
	if e := a.statesFull(ctx, olderAll+all.Count, olderNet+nc.Count); e != nil {
		a.releaseStateAt(ctx, now, network)
		return e
	}
	return nil
}

// statesFull answers the refusal of a start that would make all states in
// all and net of its network's, or nil.
func (a *Auth) statesFull(ctx context.Context, all, net int) *apiError {
	if net > a.networkShare() {
		return tooManyRequests(a.cfg.FlowTTL / stateBuckets)
	}
	if all > a.cfg.Limits.PendingStates {
		a.log.WarnContext(ctx, "pbxauth: Limits.PendingStates reached; Microsoft sign-in refused")
		return errTooManyStates
	}
	return nil
}

// releaseState takes back the counts of a Microsoft state consumed at the
// callback, in the bucket of its creation.
func (a *Auth) releaseState(ctx context.Context, f store.Flow, network string) {
	a.releaseStateAt(ctx, f.ExpiresAt.Add(-a.cfg.FlowTTL), network)
}

func (a *Auth) releaseStateAt(ctx context.Context, created time.Time, network string) {
	key, n := a.stateBucket(created)
	now := a.now()
	a.releaseCount(ctx, key, now)
	if network != "" { // a state stored before networks were counted has none
		a.releaseCount(ctx, netStates(network)+"#"+strconv.FormatInt(n, 10), now)
	}
}

func (a *Auth) releaseCount(ctx context.Context, key string, now time.Time) {
	if _, err := a.store().AddCounter(context.WithoutCancel(ctx), key, -1, time.Time{}, now); err != nil {
		a.log.WarnContext(ctx, "pbxauth: release Microsoft state count", "err", err)
	}
}
