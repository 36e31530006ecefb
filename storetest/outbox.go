// This file checks the Outbox: mail records claimed under a lease by
// exactly one worker at a time, also by workers of different stores on one
// database, given back when the lease runs out, and updated or deleted only
// by the holder of the current claim.

package storetest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// lease is the suite's lease length.
const lease = 2 * time.Minute

// outboxOf returns s's Outbox or skips the check.
func outboxOf(t tb, s store.Store) store.Outbox {
	t.Helper()
	ob, ok := s.(store.Outbox)
	if !ok {
		t.Skipf("the store does not implement store.Outbox")
	}
	return ob
}

// mail returns a record named name, due at base+due.
func mail(name string, due time.Duration) store.OutboxMail {
	return store.OutboxMail{
		ID: "mail-" + name, Kind: "password_reset",
		Data:      `{"domain":"acme.example.test","username":"` + name + `"} ünïcode`,
		CreatedAt: at(due - time.Second), NextAt: at(due),
	}
}

// addMails stores the records or stops the check.
func addMails(t tb, ob store.Outbox, ms ...store.OutboxMail) {
	t.Helper()
	for _, m := range ms {
		must(t, ob.AddMail(t.Context(), m), "AddMail "+m.ID)
	}
}

// claimed is m as ClaimMail returns it under claim until until.
func claimed(m store.OutboxMail, claim string, until time.Time) store.OutboxMail {
	m.Claim, m.LeaseUntil = claim, until
	return m
}

// claimedMail adds a record due at base and claims it at base under claim
// until base+lease; it returns the record as added.
func claimedMail(t tb, s store.Store, claim string) (store.Outbox, context.Context, store.OutboxMail) {
	t.Helper()
	ob, ctx := outboxOf(t, s), t.Context()
	m := mail("a", 0)
	addMails(t, ob, m)
	_, err := ob.ClaimMail(ctx, claim, at(0), at(lease))
	wantErr(t, err, nil, "ClaimMail")
	return ob, ctx, m
}

var outboxChecks = []check{
	// Two processes sharing a database claim each record exactly once
	// between them.
	{name: "SharedClaims", pair: func(t tb, a, b store.Store) {
		claimRace(t, outboxOf(t, a), outboxOf(t, b))
	}},
	{name: "Stats", fn: func(t tb, s store.Store) {
		ob := outboxOf(t, s)
		r, ok := ob.(store.OutboxReporter)
		if !ok {
			t.Skipf("%T does not implement store.OutboxReporter", s)
		}
		ctx := t.Context()
		n, oldest, err := r.OutboxStats(ctx)
		wantErr(t, err, nil, "OutboxStats of an empty outbox")
		if n != 0 || !oldest.IsZero() {
			t.Errorf("OutboxStats of an empty outbox = %d, %v; want 0 and the zero time", n, oldest)
		}
		addMails(t, ob, mail("b", time.Minute), mail("a", 0), mail("c", 2*time.Minute))
		claim := "w1"
		_, err = ob.ClaimMail(ctx, claim, at(0), at(time.Minute))
		wantErr(t, err, nil, "ClaimMail")
		n, oldest, err = r.OutboxStats(ctx)
		wantErr(t, err, nil, "OutboxStats")
		if n != 3 || !oldest.Equal(mail("a", 0).CreatedAt) {
			t.Errorf("OutboxStats = %d, %v; want 3 (a claimed one included) and %v", n, oldest, mail("a", 0).CreatedAt)
		}
	}},
	{name: "ClaimRoundTrip", fn: func(t tb, s store.Store) {
		ob, ctx := outboxOf(t, s), t.Context()
		m := mail("a", 0)
		addMails(t, ob, m)
		wantErr(t, ob.AddMail(ctx, m), store.ErrConflict, "AddMail of an existing ID")
		got, err := ob.ClaimMail(ctx, "c1", at(0), at(lease))
		wantErr(t, err, nil, "ClaimMail")
		equal(t, "claimed record", got, claimed(m, "c1", at(lease)))
		_, err = ob.ClaimMail(ctx, "c2", at(time.Minute), at(time.Minute+lease))
		wantErr(t, err, store.ErrNotFound, "ClaimMail of a leased record")
	}},
	{name: "DueOrder", fn: func(t tb, s store.Store) {
		ob, ctx := outboxOf(t, s), t.Context()
		addMails(t, ob, mail("later", time.Minute), mail("first", -time.Minute), mail("second", 0))
		_, err := ob.ClaimMail(ctx, "c0", at(-time.Minute-time.Nanosecond), at(lease))
		wantErr(t, err, store.ErrNotFound, "ClaimMail before anything is due")
		for i, want := range []string{"mail-first", "mail-second"} {
			got, err := ob.ClaimMail(ctx, fmt.Sprint("c", i), at(0), at(lease))
			wantErr(t, err, nil, "ClaimMail "+want)
			if got.ID != want {
				t.Errorf("claim %d got %s, want %s (the one due longest first)", i, got.ID, want)
			}
		}
		_, err = ob.ClaimMail(ctx, "c3", at(time.Minute-time.Nanosecond), at(lease))
		wantErr(t, err, store.ErrNotFound, "ClaimMail of a record not yet due")
		got, err := ob.ClaimMail(ctx, "c4", at(time.Minute), at(lease))
		wantErr(t, err, nil, "ClaimMail once due")
		if got.ID != "mail-later" {
			t.Errorf("got %s, want mail-later", got.ID)
		}
	}},
	{name: "LeaseExpires", fn: func(t tb, s store.Store) {
		ob, ctx, m := claimedMail(t, s, "dead")
		// The worker holding "dead" never comes back.
		_, err := ob.ClaimMail(ctx, "live", at(lease-time.Nanosecond), at(2*lease))
		wantErr(t, err, store.ErrNotFound, "ClaimMail a nanosecond before the lease ends")
		got, err := ob.ClaimMail(ctx, "live", at(lease), at(2*lease))
		wantErr(t, err, nil, "ClaimMail once the lease ended")
		equal(t, "reclaimed record", got, claimed(m, "live", at(2*lease)))
		stale := got
		stale.Attempts = 9
		wantErr(t, ob.UpdateMail(ctx, stale, "dead"), store.ErrNotFound, "UpdateMail with the expired claim")
		wantErr(t, ob.DeleteMail(ctx, m.ID, "dead"), store.ErrNotFound, "DeleteMail with the expired claim")
		wantErr(t, ob.DeleteMail(ctx, m.ID, "live"), nil, "DeleteMail with the live claim")
		_, err = ob.ClaimMail(ctx, "after", at(time.Hour), at(time.Hour+lease))
		wantErr(t, err, store.ErrNotFound, "ClaimMail after DeleteMail")
	}},
	{name: "UpdateAndRelease", fn: func(t tb, s store.Store) {
		ob, ctx, m := claimedMail(t, s, "c1")
		got := claimed(m, "c1", at(lease))
		// Record an attempt's flow while holding the claim.
		got.Attempts, got.FlowHash = 1, hash("flow-1")
		wantErr(t, ob.UpdateMail(ctx, got, "c1"), nil, "UpdateMail keeping the claim")
		// Reschedule and release.
		rel := got
		rel.NextAt, rel.Claim, rel.LeaseUntil = at(30*time.Second), "", time.Time{}
		rel.Data, rel.Kind = "changed", "changed" // not updatable
		wantErr(t, ob.UpdateMail(ctx, rel, "c1"), nil, "UpdateMail releasing")
		wantErr(t, ob.UpdateMail(ctx, rel, "c1"), store.ErrNotFound, "UpdateMail with a released claim")
		wantErr(t, ob.DeleteMail(ctx, m.ID, "c1"), store.ErrNotFound, "DeleteMail with a released claim")
		_, err := ob.ClaimMail(ctx, "c2", at(30*time.Second-time.Nanosecond), at(lease))
		wantErr(t, err, store.ErrNotFound, "ClaimMail before the new NextAt")
		again, err := ob.ClaimMail(ctx, "c2", at(30*time.Second), at(30*time.Second+lease))
		wantErr(t, err, nil, "ClaimMail at the new NextAt")
		want := claimed(m, "c2", at(30*time.Second+lease))
		want.NextAt, want.Attempts, want.FlowHash = at(30*time.Second), 1, hash("flow-1")
		equal(t, "record after release", again, want)
		wantErr(t, ob.UpdateMail(ctx, mail("missing", 0), ""), store.ErrNotFound, "UpdateMail of a missing record")
	}},
	{name: "ConcurrentClaims", fn: func(t tb, s store.Store) {
		claimRace(t, outboxOf(t, s), outboxOf(t, s))
	}},
}

// claimRace adds records and has racers claim them through a and b at
// once (alternately): every record goes to exactly one racer.
func claimRace(t tb, a, b store.Outbox) {
	t.Helper()
	const records = racers / 2
	for i := range records {
		addMails(t, a, mail(fmt.Sprint("r", i), 0))
	}
	ctx := t.Context()
	got := make([]string, racers)
	errs := concurrently(racers, func(i int) error {
		ob := a
		if i%2 == 1 {
			ob = b
		}
		m, err := ob.ClaimMail(ctx, fmt.Sprint("racer-", i), at(0), at(lease))
		got[i] = m.ID
		return err
	})
	seen := map[string]int{}
	for i, err := range errs {
		switch {
		case err == nil:
			if n, dup := seen[got[i]]; dup {
				t.Errorf("%s claimed by racers %d and %d", got[i], n, i)
			}
			seen[got[i]] = i
		case !errors.Is(err, store.ErrNotFound):
			t.Errorf("racer %d: %v", i, err)
		}
	}
	if len(seen) != records {
		t.Fatalf("%d of %d records claimed by %d racers, want all", len(seen), records, racers)
	}
}
