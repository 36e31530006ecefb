// This file checks the optional store.Sweeper: sweeping deletes what has
// expired and nothing else.

package storetest

import (
	"time"

	"github.com/pbxauth/pbxauth/store"
)

var sweeperChecks = []check{
	{name: "DeleteExpired", fn: func(t tb, s store.Store) {
		sw, ok := s.(store.Sweeper)
		if !ok {
			t.Skipf("%T does not implement store.Sweeper", s)
		}
		ctx := t.Context()
		gone := at(-time.Second) // expired at base

		liveFlow := addFlow(t, s, flow("live"))
		deadFlow := flow("dead")
		deadFlow.ExpiresAt = gone
		addFlow(t, s, deadFlow)

		liveCounter := putCounter(t, s, counter("live"), at(-time.Hour))
		deadCounter := counter("dead")
		deadCounter.ExpiresAt = gone
		putCounter(t, s, deadCounter, at(-time.Hour))

		addUser(t, s, user("u-1", "t-acme", "alice"))
		ss := signIn(t, s, "u-1", "f-1")
		deadToken := token("f-1/dead", store.AccessToken, "f-1", gone)
		must(t, s.AddToken(ctx, deadToken, at(-time.Hour)), "AddToken")
		next := token("f-1/next", store.RefreshToken, "f-1", at(13*time.Hour))
		_, err := s.RotateRefresh(ctx, ss.refresh.Hash, at(-time.Minute), next)
		must(t, err, "RotateRefresh")
		deadFamily := store.Family{ID: "f-dead", UserID: "u-1", Method: "password", CreatedAt: at(-2 * time.Hour), ExpiresAt: gone}
		must(t, createFamily(ctx, s, deadFamily), "CreateFamily")
		revoked := signIn(t, s, "u-1", "f-revoked")
		must(t, s.RevokeFamily(ctx, "f-revoked"), "RevokeFamily")

		n, err := sw.DeleteExpired(ctx, base)
		wantErr(t, err, nil, "DeleteExpired")
		if n != 7 {
			t.Errorf("DeleteExpired = %d, want 7 (a flow, a counter, a token, a family, and a revoked family with its two tokens)", n)
		}
		n, err = sw.DeleteExpired(ctx, base)
		wantErr(t, err, nil, "DeleteExpired again")
		if n != 0 {
			t.Errorf("DeleteExpired again = %d, want 0", n)
		}

		wantFlow(t, s, liveFlow, base, "after DeleteExpired")
		wantCounter(t, s, liveCounter, base, "after DeleteExpired")
		wantGrant(t, s, ss.access, ss.family, base, "of a live token after DeleteExpired")
		wantGrant(t, s, next, ss.family, base, "of a live token after DeleteExpired")
		// A rotated refresh token is kept while it lives: reuse must still
		// be detected.
		_, err = s.RotateRefresh(ctx, ss.refresh.Hash, base)
		wantErr(t, err, store.ErrTokenReused, "RotateRefresh of a rotated token after DeleteExpired")

		// What was swept is gone, so its keys are free again.
		must(t, s.CreateFlow(ctx, deadFlow), "CreateFlow with the hash of a swept flow")
		deadToken.ExpiresAt = at(time.Hour)
		must(t, s.AddToken(ctx, deadToken, base), "AddToken with the hash of a swept token")
		deadFamily.ExpiresAt = at(time.Hour)
		must(t, createFamily(ctx, s, deadFamily), "CreateFamily with the ID of a swept family")
		must(t, createFamily(ctx, s, revoked.family, revoked.access, revoked.refresh),
			"CreateFamily with the ID and tokens of a swept revoked family")
	}},
}
