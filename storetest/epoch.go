// This file checks the sign-in epoch and the bound on a user's sign-ins:
// which steps advance the epoch, that a sign-in, a flow or a factor
// (an app confirmed, recovery codes replaced) stored under an epoch that
// moved is refused with ErrStale and stores nothing, that none started
// while a reset, a disable or a global sign-out runs — in this process or
// another — outlives it, and that CreateFamily evicts the least recently
// used sign-ins beyond its bound, also under concurrency.

package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// createFamily stores a sign-in with no bound on the user's sign-ins.
func createFamily(ctx context.Context, s store.Store, f store.Family, tokens ...store.Token) error {
	_, err := s.CreateFamily(ctx, f, 0, tokens...)
	return err
}

// epochOf reads the user's epoch, or stops the check.
func epochOf(t tb, s store.Store, userID string) int64 {
	t.Helper()
	u, err := s.User(t.Context(), userID)
	must(t, err, "User "+userID)
	return u.Epoch
}

// epochIfAny is the user's epoch, or 0 for a user that does not exist.
func epochIfAny(t tb, s store.Store, userID string) int64 {
	t.Helper()
	u, err := s.User(t.Context(), userID)
	if errors.Is(err, store.ErrNotFound) {
		return 0
	}
	must(t, err, "User "+userID)
	return u.Epoch
}

// familyAt is a sign-in of the user under epoch, made and last used at
// created, live for an hour after base.
func familyAt(userID, id string, epoch int64, created time.Time) store.Family {
	return store.Family{ID: id, UserID: userID, Method: "password", CreatedAt: created, LastUsedAt: created,
		ExpiresAt: at(time.Hour), Epoch: epoch}
}

// epochEnders are the steps that end a user's sign-ins as a whole, each as
// the Auth runs it.
var epochEnders = []struct {
	name string
	end  func(t tb, s store.Store, userID string) error
}{
	{"ResetPassword", func(t tb, s store.Store, userID string) error {
		return s.ResetPassword(t.Context(), userID, "$argon2id$new")
	}},
	{"RevokeUser", func(t tb, s store.Store, userID string) error {
		return s.RevokeUser(t.Context(), userID)
	}},
	{"GlobalSignOut", func(t tb, s store.Store, userID string) error {
		_, err := s.RevokeOtherFamilies(t.Context(), userID, "", base)
		return err
	}},
	{"Disable", func(t tb, s store.Store, userID string) error {
		if err := s.SetUserDisabled(t.Context(), userID, true); err != nil {
			return err
		}
		_, err := s.RevokeOtherFamilies(t.Context(), userID, "", base)
		return err
	}},
}

var epochChecks = []check{
	{name: "Advances", fn: func(t tb, s store.Store) {
		ctx := t.Context()
		u := user("u-1", "t-acme", "alice")
		u.Epoch = 0
		addUser(t, s, u)
		want := int64(0)
		step := func(what string, advances bool, do func() error) {
			t.Helper()
			must(t, do(), what)
			if advances {
				want++
			}
			if got := epochOf(t, s, "u-1"); got != want {
				t.Errorf("epoch after %s: %d, want %d", what, got, want)
				want = got
			}
		}
		step("ResetPassword", true, func() error { return s.ResetPassword(ctx, "u-1", "$argon2id$two") })
		step("RevokeUser", true, func() error { return s.RevokeUser(ctx, "u-1") })
		step("RevokeOtherFamilies", true, func() error { _, err := s.RevokeOtherFamilies(ctx, "u-1", "f-x", base); return err })
		step("RevokeMethodFamilies", true, func() error { _, err := s.RevokeMethodFamilies(ctx, "u-1", "microsoft", base); return err })
		step("SetUserDisabled(true)", true, func() error { return s.SetUserDisabled(ctx, "u-1", true) })
		step("SetUserDisabled(false)", false, func() error { return s.SetUserDisabled(ctx, "u-1", false) })
		step("SetPasswordForceReset", false, func() error { return s.SetPasswordForceReset(ctx, "u-1", true) })
		step("SwapPasswordHash (an upgrade, not a change)", false, func() error {
			return s.SwapPasswordHash(ctx, "u-1", "$argon2id$two", "$argon2id$two-upgraded")
		})
		cur, err := s.User(ctx, "u-1")
		must(t, err, "User")
		changed := cur
		changed.Email, changed.Epoch = "new@example.com", 1000 // the given epoch is never stored
		step("UpdateUser of the email", false, func() error { return s.UpdateUser(ctx, changed) })
		changed.PasswordHash = "$argon2id$three"
		step("UpdateUser of the password hash", true, func() error { return s.UpdateUser(ctx, changed) })
		changed.Disabled = true
		step("UpdateUser that disables", true, func() error { return s.UpdateUser(ctx, changed) })
		step("UpdateUser of a disabled user", false, func() error { return s.UpdateUser(ctx, changed) })
	}},
	{name: "StaleRefused", fn: func(t tb, s store.Store) {
		ctx := t.Context()
		addUser(t, s, user("u-1", "t-acme", "alice"))
		must(t, s.ResetPassword(ctx, "u-1", "$argon2id$new"), "ResetPassword")
		now := epochOf(t, s, "u-1")
		old := now - 1

		acc := token("f-old/access", store.AccessToken, "f-old", at(time.Hour))
		_, err := s.CreateFamily(ctx, familyAt("u-1", "f-old", old, base), 0, acc)
		wantErr(t, err, store.ErrStale, "CreateFamily under the epoch before a reset")
		wantNoGrant(t, s, acc, base, "of a sign-in refused as stale")
		wantFamilies(t, s, "u-1", base, "after a stale CreateFamily")
		// Nothing was kept: the same ID and token go in under the epoch.
		f := familyAt("u-1", "f-old", now, base)
		must(t, createFamily(ctx, s, f, acc), "CreateFamily under the current epoch")
		wantGrant(t, s, acc, f, base, "of a sign-in under the current epoch")

		flow := store.Flow{Hash: hash("stale-flow"), Purpose: store.FlowTwoFactor, UserID: "u-1", TenantID: "t-acme",
			ExpiresAt: at(time.Minute), Epoch: old}
		wantErr(t, s.CreateFlow(ctx, flow), store.ErrStale, "CreateFlow under the epoch before a reset")
		_, err = s.Flow(ctx, flow.Hash, base)
		wantErr(t, err, store.ErrNotFound, "Flow of a flow refused as stale")
		flow.Epoch = now
		must(t, s.CreateFlow(ctx, flow), "CreateFlow under the current epoch")
		stored, err := s.Flow(ctx, flow.Hash, base)
		must(t, err, "Flow")
		if stored.Epoch != now {
			t.Errorf("flow's epoch: %d, want %d", stored.Epoch, now)
		}
		// A flow of no user (an OAuth state) has no epoch to compare.
		state := store.Flow{Hash: hash("state"), Purpose: store.FlowOIDCState, TenantID: "t-acme", ExpiresAt: at(time.Minute), Epoch: 7}
		must(t, s.CreateFlow(ctx, state), "CreateFlow of no user")
	}},
	{name: "FactorsStale", fn: func(t tb, s store.Store) {
		ts, ctx := totpStore(t, s), t.Context()
		addUser(t, s, user("u-1", "t-acme", "alice"))
		old := epochOf(t, s, "u-1")
		must(t, ts.PutPendingTOTP(ctx, pending("u-1", 1)), "PutPendingTOTP")
		must(t, s.ResetPassword(ctx, "u-1", "$argon2id$new"), "ResetPassword")
		now := epochOf(t, s, "u-1")

		wantErr(t, ts.ActivateTOTP(ctx, "u-1", old, 100, []string{"h-old"}), store.ErrStale, "ActivateTOTP under the epoch before a reset")
		app, err := ts.TOTP(ctx, "u-1")
		must(t, err, "TOTP")
		if app.Active {
			t.Errorf("the app is active after a stale ActivateTOTP")
		}
		wantErr(t, ts.ConsumeRecoveryCode(ctx, "u-1", "h-old"), store.ErrNotFound, "a code of a stale ActivateTOTP")
		must(t, ts.ActivateTOTP(ctx, "u-1", now, 100, []string{"h1", "h2"}), "ActivateTOTP under the current epoch")

		must(t, s.RevokeUser(ctx, "u-1"), "RevokeUser")
		wantErr(t, ts.ReplaceRecoveryCodes(ctx, "u-1", now, []string{"n1"}), store.ErrStale, "ReplaceRecoveryCodes under the epoch before RevokeUser")
		wantErr(t, ts.ConsumeRecoveryCode(ctx, "u-1", "n1"), store.ErrNotFound, "a code of a stale ReplaceRecoveryCodes")
		must(t, ts.ConsumeRecoveryCode(ctx, "u-1", "h1"), "a code a stale ReplaceRecoveryCodes did not replace")
		must(t, ts.ReplaceRecoveryCodes(ctx, "u-1", epochOf(t, s, "u-1"), []string{"n1"}), "ReplaceRecoveryCodes under the current epoch")
		must(t, ts.ConsumeRecoveryCode(ctx, "u-1", "n1"), "a code of ReplaceRecoveryCodes")
		wantErr(t, ts.ConsumeRecoveryCode(ctx, "u-1", "h2"), store.ErrNotFound, "a replaced code")
	}},
	{name: "RaceWithEnders", pair: func(t tb, a, b store.Store) {
		for _, e := range epochEnders {
			raceEpoch(t, a, b, e.name, e.end)
		}
	}},
	{name: "EvictsLeastRecentlyUsed", fn: func(t tb, s store.Store) {
		ctx := t.Context()
		addUser(t, s, user("u-1", "t-acme", "alice"), user("u-2", "t-acme", "bob"))
		// Made in order, but f-2 used most recently and f-1 least.
		for i, used := range []time.Duration{-time.Minute, -10 * time.Minute, -5 * time.Minute} {
			f := familyAt("u-1", fmt.Sprintf("f-%d", i), 0, at(-time.Hour+time.Duration(i)*time.Minute))
			f.LastUsedAt = at(used)
			must(t, createFamily(ctx, s, f), "CreateFamily "+f.ID)
		}
		// Revoked and expired sign-ins and other users' do not count.
		dead := familyAt("u-1", "f-dead", 0, at(-time.Hour))
		must(t, createFamily(ctx, s, dead), "CreateFamily f-dead")
		must(t, s.RevokeFamily(ctx, "f-dead"), "RevokeFamily")
		ended := familyAt("u-1", "f-ended", 0, at(-2*time.Hour))
		ended.ExpiresAt = at(-time.Minute)
		must(t, createFamily(ctx, s, ended), "CreateFamily f-ended")
		must(t, createFamily(ctx, s, familyAt("u-2", "f-bob", 0, at(-time.Hour))), "CreateFamily f-bob")

		evicted, err := s.CreateFamily(ctx, familyAt("u-1", "f-3", 0, base), 4)
		must(t, err, "CreateFamily at the bound")
		if len(evicted) != 0 {
			t.Errorf("CreateFamily with 3 live of 4 evicted %v", evicted)
		}
		evicted, err = s.CreateFamily(ctx, familyAt("u-1", "f-4", 0, base), 3)
		must(t, err, "CreateFamily beyond the bound")
		slices.Sort(evicted)
		if !slices.Equal(evicted, []string{"f-1", "f-2"}) {
			t.Errorf("evicted %v, want the two least recently used [f-1 f-2]", evicted)
		}
		live, err := s.Families(ctx, "u-1", base)
		must(t, err, "Families")
		var ids []string
		for _, f := range live {
			ids = append(ids, f.ID)
		}
		slices.Sort(ids)
		if !slices.Equal(ids, []string{"f-0", "f-3", "f-4"}) {
			t.Errorf("live after eviction: %v, want [f-0 f-3 f-4]", ids)
		}
		if fs, _ := s.Families(ctx, "u-2", base); len(fs) != 1 {
			t.Errorf("another user's sign-ins: %d, want 1 (untouched)", len(fs))
		}
		// A refused CreateFamily evicts nothing.
		_, err = s.CreateFamily(ctx, familyAt("u-1", "f-4", 0, base), 1)
		wantErr(t, err, store.ErrConflict, "CreateFamily with a taken ID")
		if fs, _ := s.Families(ctx, "u-1", base); len(fs) != 3 {
			t.Errorf("a refused CreateFamily changed the live sign-ins: %d, want 3", len(fs))
		}
	}},
	{name: "EvictionUnderConcurrency", pair: func(t tb, a, b store.Store) {
		const bound = 5
		addUser(t, a, user("u-1", "t-acme", "alice"))
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			evicted = map[string]bool{}
		)
		for i := range racers * 2 {
			s := a
			if i%2 == 1 {
				s = b
			}
			wg.Go(func() {
				f := familyAt("u-1", fmt.Sprintf("f-%02d", i), 0, base)
				ids, err := s.CreateFamily(t.Context(), f, bound)
				if err != nil {
					t.Errorf("CreateFamily %s: %v", f.ID, err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				for _, id := range ids {
					if evicted[id] {
						t.Errorf("%s evicted twice", id)
					}
					evicted[id] = true
				}
			})
		}
		wg.Wait()
		live, err := a.Families(t.Context(), "u-1", base)
		must(t, err, "Families")
		if len(live) != bound {
			t.Errorf("%d live sign-ins after %d concurrent ones with a bound of %d, want %d", len(live), racers*2, bound, bound)
		}
		if len(live)+len(evicted) != racers*2 {
			t.Errorf("%d live + %d evicted of %d sign-ins: each must be one or the other", len(live), len(evicted), racers*2)
		}
		for _, f := range live {
			if evicted[f.ID] {
				t.Errorf("%s reported evicted but live", f.ID)
			}
		}
	}},
}

// raceEpoch races sign-ins, flows and (for a TOTPStore) replacements of
// recovery codes of one user, started under the epoch read before, against
// end, run once through the other handle (raceUntil): every sign-in that
// was stored must be ended by end, and once end returned, none more may be
// stored.
func raceEpoch(t tb, a, b store.Store, name string, end func(t tb, s store.Store, userID string) error) {
	t.Helper()
	ctx := t.Context()
	userID := "u-" + name
	addUser(t, a, user(userID, "t-acme", strings.ToLower(name)))
	epoch := epochOf(t, a, userID)
	kinds := []string{"CreateFamily", "CreateFlow"}
	if _, ok := a.(store.TOTPStore); ok {
		kinds = append(kinds, "ReplaceRecoveryCodes")
	}
	stored := raceUntil(t, a, b, name, len(kinds), func(s store.Store, id string, i int) error {
		switch kinds[i%len(kinds)] {
		case "CreateFamily":
			_, err := s.CreateFamily(ctx, familyAt(userID, id, epoch, base), 0)
			return err
		case "CreateFlow":
			return s.CreateFlow(ctx, store.Flow{Hash: hash(id), Purpose: store.FlowTwoFactor, UserID: userID,
				TenantID: "t-acme", ExpiresAt: at(time.Minute), Epoch: epoch})
		}
		return s.(store.TOTPStore).ReplaceRecoveryCodes(ctx, userID, epoch, []string{id})
	}, func() error { return end(t, b, userID) })
	live, err := a.Families(ctx, userID, base)
	must(t, err, "Families")
	if len(live) != 0 {
		t.Errorf("%s: %d sign-ins started under the old epoch outlived it (of %d steps stored)", name, len(live), len(stored))
	}
}

// raceCreates bounds the steps of one racer of raceUntil.
const raceCreates = 24

// raceUntil races create, run by racers through both handles, against end,
// run once as soon as a create succeeded. Each racer keeps creating (its
// i-th create with the ID name/racer/i, up to raceCreates times) until end
// has returned or refuses it with ErrStale, and once end has returned
// creates lasts more times (i from 0), each of which must be refused with
// ErrStale: so the race window is crossed every time, whatever the
// scheduling — some creations land before end (it would be no race
// otherwise — checked) and every racer's last ones after. The bound keeps
// a database with one writer (SQLite) from queueing end behind racers that
// never stop, beyond its busy timeout. It returns the IDs create stored.
func raceUntil(t tb, a, b store.Store, name string, lasts int, create func(s store.Store, id string, i int) error, end func() error) []string {
	t.Helper()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		stored  []string
		started = make(chan struct{})
		once    sync.Once
		ended   = make(chan struct{})
	)
	for r := range racers {
		s := a
		if r%2 == 1 {
			s = b
		}
		wg.Go(func() {
			defer once.Do(func() { close(started) }) // a racer that failed: end must run all the same
		creating:
			for i := range raceCreates {
				select {
				case <-ended:
					break creating
				default:
				}
				id := fmt.Sprintf("%s/%d/%d", name, r, i)
				err := create(s, id, i)
				switch {
				case err == nil:
					mu.Lock()
					stored = append(stored, id)
					mu.Unlock()
					once.Do(func() { close(started) })
				case errors.Is(err, store.ErrStale):
					once.Do(func() { close(started) }) // refused before end began: end must run all the same
					break creating
				default:
					t.Errorf("%s: a racer's step %s: %v, want nil or ErrStale", name, id, err)
					return
				}
			}
			<-ended
			for i := range lasts {
				id := fmt.Sprintf("%s/%d/last/%d", name, r, i)
				if err := create(s, id, i); !errors.Is(err, store.ErrStale) {
					t.Errorf("%s: a racer's step %s after it returned: %v, want ErrStale", name, id, err)
				}
			}
		})
	}
	<-started
	err := func() error {
		defer close(ended) // also when end stops the check
		return end()
	}()
	wg.Wait()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(stored) == 0 {
		t.Fatalf("%s: nothing was stored before it: no race", name)
	}
	return stored
}
