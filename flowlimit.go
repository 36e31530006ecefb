// This file limits the requests that create a flow without credentials —
// POST /auth/sign_in/{provider}, POST /login/by_microsoft, POST
// /auth/forget_password — which anyone may send and each of which makes
// the server store something: a rate per client address, and a bound on
// the Microsoft states alive in all.

package pbxauth

import (
	"context"
	"net/http"
	"strconv"
	"time"
)

var errTooManyStates = &apiError{status: http.StatusServiceUnavailable, code: CodeUnavailable, message: "too many sign-ins in progress, try again", retryAfter: 5 * time.Second}

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

// reserveState counts a Microsoft state about to be stored, and answers
// 503 when Limits.PendingStates would be exceeded. The count is taken
// before the bound is checked, so concurrent starts cannot all slip under
// it; a refused start takes its count back.
func (a *Auth) reserveState(ctx context.Context) *apiError {
	now := a.now()
	key, n := a.stateBucket(now)
	width := a.cfg.FlowTTL / stateBuckets
	end := time.Unix(0, (n+1)*int64(width)).Add(a.cfg.FlowTTL)
	if _, err := a.store.AddCounter(ctx, key, 1, end, now); err != nil {
		return a.internal(ctx, "count Microsoft states", err)
	}
	total := 0
	for i := range int64(stateBuckets + 1) {
		c, err := a.store.Counter(ctx, "ms-states#"+strconv.FormatInt(n-i, 10), now)
		if err != nil {
			return a.internal(ctx, "count Microsoft states", err)
		}
		total += c.Count
	}
	if total > a.cfg.Limits.PendingStates {
		a.releaseStateAt(ctx, now)
		a.log.WarnContext(ctx, "pbxauth: Limits.PendingStates reached; Microsoft sign-in refused")
		return errTooManyStates
	}
	return nil
}

// releaseState takes back the count of a Microsoft state consumed at the
// callback, in the bucket of its creation.
func (a *Auth) releaseState(ctx context.Context, f Flow) {
	a.releaseStateAt(ctx, f.ExpiresAt.Add(-a.cfg.FlowTTL))
}

func (a *Auth) releaseStateAt(ctx context.Context, created time.Time) {
	key, _ := a.stateBucket(created)
	if _, err := a.store.AddCounter(context.WithoutCancel(ctx), key, -1, time.Time{}, a.now()); err != nil {
		a.log.WarnContext(ctx, "pbxauth: release Microsoft state count", "err", err)
	}
}
