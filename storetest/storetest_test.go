package storetest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
)

// recorder stands in for *testing.T when a check runs against a store that
// must fail it: it notes failures instead of failing the test.
type recorder struct {
	ctx      context.Context
	mu       sync.Mutex // racers of a check report from their goroutines
	failures []string
	skipped  bool
}

func (r *recorder) Helper()                  {}
func (r *recorder) Context() context.Context { return r.ctx }

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Skipf(format string, args ...any) {
	r.skipped = true
	runtime.Goexit()
}

// record runs c against s on a goroutine of its own, as testing does, so
// that Fatalf and Skipf can end it.
func record(t *testing.T, c check, s pbxauth.Store) *recorder {
	r := &recorder{ctx: t.Context()}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if c.pair != nil {
			c.pair(r, s, s)
			return
		}
		c.fn(r, s)
	}()
	<-done
	return r
}

// Broken stores: MemoryStore with one method subtly wrong.
type (
	// reusableFlows does not delete a consumed flow.
	reusableFlows struct{ *pbxauth.MemoryStore }
	// caseSensitiveNames finds a user only by the username's exact case.
	caseSensitiveNames struct{ *pbxauth.MemoryStore }
	// hiddenReuse reports a reused refresh token as missing.
	hiddenReuse struct{ *pbxauth.MemoryStore }
	// blindFlowUpdates ignores the version UpdateFlow is given.
	blindFlowUpdates struct{ *pbxauth.MemoryStore }
	// lateFlowExpiry still shows a flow at its ExpiresAt.
	lateFlowExpiry struct{ *pbxauth.MemoryStore }
	// keptSignIns resets a password without revoking the user's sign-ins.
	keptSignIns struct{ *pbxauth.MemoryStore }
	// immortalCounters compares versions with expired counters too.
	immortalCounters struct{ *pbxauth.MemoryStore }
	// earlyClaims claims records two minutes early: before they are due,
	// and while another worker's lease still holds them.
	earlyClaims struct{ *pbxauth.MemoryStore }
	// lostSuccessors never returns a reused token's successor.
	lostSuccessors struct{ *pbxauth.MemoryStore }
	// oldestFirst lists a user's sign-ins oldest first.
	oldestFirst struct{ *pbxauth.MemoryStore }
	// eagerTouch writes LastUsedAt on every touch.
	eagerTouch struct{ *pbxauth.MemoryStore }
	// revokeAnyFamily ends another user's sign-in too.
	revokeAnyFamily struct{ *pbxauth.MemoryStore }
	// epochBlind stores sign-ins and flows whatever the epoch they carry.
	epochBlind struct{ *pbxauth.MemoryStore }
	// factorEpochBlind confirms apps and replaces recovery codes whatever
	// the epoch they carry.
	factorEpochBlind struct{ *pbxauth.MemoryStore }
	// spendingRedeem spends the code, then tries the flow: a code is
	// spent on a flow it cannot complete.
	spendingRedeem struct{ *pbxauth.MemoryStore }
	// methodBlind ends every sign-in of the user, whatever its method.
	methodBlind struct{ *pbxauth.MemoryStore }
	// noEviction keeps every sign-in, whatever the bound.
	noEviction struct{ *pbxauth.MemoryStore }
	// unboundedAdds adds whatever the limit.
	unboundedAdds struct{ *pbxauth.MemoryStore }
	// touchingRefusals writes a refused conditional add (a later expiry, a
	// new version), as an add of 0 would.
	touchingRefusals struct{ *pbxauth.MemoryStore }
	// forgetfulUseOnce never records a use.
	forgetfulUseOnce struct{ *pbxauth.MemoryStore }
	// purposelessUseOnce records uses by id alone.
	purposelessUseOnce struct{ *pbxauth.MemoryStore }
	// earlyUseOnceSweep sweeps uses at their expiry, without the margin.
	earlyUseOnceSweep struct{ *pbxauth.MemoryStore }
)

func (s unboundedAdds) AddCounterBelow(ctx context.Context, key string, limit int, expiresAt, now time.Time) (pbxauth.Counter, bool, error) {
	c, err := s.AddCounter(ctx, key, 1, expiresAt, now)
	return c, err == nil, err
}

func (s touchingRefusals) AddCounterBelow(ctx context.Context, key string, limit int, expiresAt, now time.Time) (pbxauth.Counter, bool, error) {
	c, added, err := s.MemoryStore.AddCounterBelow(ctx, key, limit, expiresAt, now)
	if err == nil && !added {
		_, err = s.AddCounter(ctx, key, 0, expiresAt, now)
	}
	return c, added, err
}

func (s forgetfulUseOnce) UseOnce(ctx context.Context, purpose string, id [16]byte, expiresAt time.Time) error {
	return nil
}

func (s purposelessUseOnce) UseOnce(ctx context.Context, purpose string, id [16]byte, expiresAt time.Time) error {
	return s.MemoryStore.UseOnce(ctx, "", id, expiresAt)
}

func (s earlyUseOnceSweep) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	return s.MemoryStore.DeleteExpired(ctx, now.Add(pbxauth.UseOnceMargin))
}

func (s lostSuccessors) RotateRefresh(ctx context.Context, h pbxauth.Hash, now time.Time, next ...pbxauth.Token) (pbxauth.Grant, error) {
	g, err := s.MemoryStore.RotateRefresh(ctx, h, now, next...)
	g.Successor = pbxauth.Token{}
	return g, err
}

func (s earlyClaims) ClaimMail(ctx context.Context, claim string, now, until time.Time) (pbxauth.OutboxMail, error) {
	return s.MemoryStore.ClaimMail(ctx, claim, now.Add(2*time.Minute), until)
}

func (s reusableFlows) ConsumeFlow(ctx context.Context, h pbxauth.Hash, purpose pbxauth.FlowPurpose, now time.Time) (pbxauth.Flow, error) {
	f, err := s.Flow(ctx, h, now)
	if err != nil || f.Purpose != purpose {
		return pbxauth.Flow{}, pbxauth.ErrNotFound
	}
	return f, nil
}

func (s caseSensitiveNames) UserByName(ctx context.Context, tenantID, username string) (pbxauth.User, error) {
	u, err := s.MemoryStore.UserByName(ctx, tenantID, username)
	if err == nil && u.Username != username {
		return pbxauth.User{}, pbxauth.ErrNotFound
	}
	return u, err
}

func (s hiddenReuse) RotateRefresh(ctx context.Context, h pbxauth.Hash, now time.Time, next ...pbxauth.Token) (pbxauth.Grant, error) {
	g, err := s.MemoryStore.RotateRefresh(ctx, h, now, next...)
	if errors.Is(err, pbxauth.ErrTokenReused) {
		return pbxauth.Grant{}, pbxauth.ErrNotFound
	}
	return g, err
}

func (s blindFlowUpdates) UpdateFlow(ctx context.Context, f pbxauth.Flow, now time.Time) error {
	stored, err := s.Flow(ctx, f.Hash, now)
	if err != nil {
		return err
	}
	f.Version = stored.Version
	return s.MemoryStore.UpdateFlow(ctx, f, now)
}

func (s lateFlowExpiry) Flow(ctx context.Context, h pbxauth.Hash, now time.Time) (pbxauth.Flow, error) {
	return s.MemoryStore.Flow(ctx, h, now.Add(-time.Nanosecond))
}

func (s keptSignIns) ResetPassword(ctx context.Context, userID, newHash string) error {
	u, err := s.User(ctx, userID)
	if err != nil {
		return err
	}
	u.PasswordHash, u.PasswordForceReset = newHash, false
	return s.UpdateUser(ctx, u)
}

func (s immortalCounters) PutCounter(ctx context.Context, c pbxauth.Counter, now time.Time) error {
	// At the zero time every stored counter is live.
	return s.MemoryStore.PutCounter(ctx, c, time.Time{})
}

func (s oldestFirst) Families(ctx context.Context, userID string, now time.Time) ([]pbxauth.Family, error) {
	fs, err := s.MemoryStore.Families(ctx, userID, now)
	slices.Reverse(fs)
	return fs, err
}

func (s eagerTouch) TouchFamily(ctx context.Context, familyID string, now, staleBefore time.Time) error {
	return s.MemoryStore.TouchFamily(ctx, familyID, now, now)
}

// current is the user's epoch of now: what a store that never compared
// would behave as if it was given.
func current(ctx context.Context, s pbxauth.Store, userID string) int64 {
	u, _ := s.User(ctx, userID)
	return u.Epoch
}

func (s epochBlind) CreateFamily(ctx context.Context, f pbxauth.Family, maxLive int, ts ...pbxauth.Token) ([]string, error) {
	f.Epoch = current(ctx, s, f.UserID)
	return s.MemoryStore.CreateFamily(ctx, f, maxLive, ts...)
}

func (s epochBlind) CreateFlow(ctx context.Context, f pbxauth.Flow) error {
	f.Epoch = current(ctx, s, f.UserID)
	return s.MemoryStore.CreateFlow(ctx, f)
}

func (s factorEpochBlind) ActivateTOTP(ctx context.Context, userID string, epoch, step int64, hashes []string) error {
	return s.MemoryStore.ActivateTOTP(ctx, userID, current(ctx, s, userID), step, hashes)
}

func (s factorEpochBlind) ReplaceRecoveryCodes(ctx context.Context, userID string, epoch int64, hashes []string) error {
	return s.MemoryStore.ReplaceRecoveryCodes(ctx, userID, current(ctx, s, userID), hashes)
}

func (s spendingRedeem) RedeemRecoveryCode(ctx context.Context, userID, hash string, h pbxauth.Hash, now time.Time) (pbxauth.Flow, error) {
	if err := s.ConsumeRecoveryCode(ctx, userID, hash); err != nil {
		return pbxauth.Flow{}, err
	}
	f, err := s.ConsumeFlow(ctx, h, pbxauth.FlowTwoFactor, now)
	if errors.Is(err, pbxauth.ErrNotFound) || (err == nil && f.UserID != userID) {
		return pbxauth.Flow{}, pbxauth.ErrStale
	}
	return f, err
}

func (s methodBlind) RevokeMethodFamilies(ctx context.Context, userID, method string, now time.Time) ([]string, error) {
	return s.RevokeOtherFamilies(ctx, userID, "", now)
}

func (s noEviction) CreateFamily(ctx context.Context, f pbxauth.Family, maxLive int, ts ...pbxauth.Token) ([]string, error) {
	return s.MemoryStore.CreateFamily(ctx, f, 0, ts...)
}

func (s revokeAnyFamily) RevokeUserFamily(ctx context.Context, userID, familyID string, now time.Time) error {
	return s.MemoryStore.RevokeFamily(ctx, familyID)
}

// checkNamed returns the check with the given group/check name.
func checkNamed(t *testing.T, name string) check {
	t.Helper()
	group, name, _ := strings.Cut(name, "/")
	for _, g := range suite {
		for _, c := range g.checks {
			if g.name == group && c.name == name {
				return c
			}
		}
	}
	t.Fatalf("no check %s/%s", group, name)
	return check{}
}

// TestBrokenStoresFail proves the suite can fail: each broken store must
// fail the named checks, which the reference store passes.
func TestBrokenStoresFail(t *testing.T) {
	for _, b := range []struct {
		name   string
		wrap   func(*pbxauth.MemoryStore) pbxauth.Store
		checks []string
	}{
		{"ConsumeFlow keeps the flow",
			func(m *pbxauth.MemoryStore) pbxauth.Store { return reusableFlows{m} },
			[]string{"Flows/ConsumeOnce", "Flows/ConcurrentConsume"}},
		{"UserByName minds case",
			func(m *pbxauth.MemoryStore) pbxauth.Store { return caseSensitiveNames{m} },
			[]string{"Users/RoundTrip", "Users/TenantIsolation", "Users/Update"}},
		{"RotateRefresh hides reuse",
			func(m *pbxauth.MemoryStore) pbxauth.Store { return hiddenReuse{m} },
			[]string{"Tokens/RotateRefresh", "Tokens/ConcurrentRotate", "Sweeper/DeleteExpired"}},
		{"UpdateFlow ignores the version",
			func(m *pbxauth.MemoryStore) pbxauth.Store { return blindFlowUpdates{m} },
			[]string{"Flows/Update"}}, // racers may all re-read and one win by chance
		{"Flow lives at its expiry",
			func(m *pbxauth.MemoryStore) pbxauth.Store { return lateFlowExpiry{m} },
			[]string{"Flows/Expiry"}},
		{"ResetPassword keeps sign-ins",
			func(m *pbxauth.MemoryStore) pbxauth.Store { return keptSignIns{m} },
			[]string{"Users/ResetPassword"}},
		{"PutCounter sees expired counters",
			func(m *pbxauth.MemoryStore) pbxauth.Store { return immortalCounters{m} },
			[]string{"Counters/Expiry", "Counters/ConcurrentPut"}},
		{"RotateRefresh loses the successor",
			func(m *pbxauth.MemoryStore) pbxauth.Store { return lostSuccessors{m} },
			[]string{"RefreshGrace/SeedRoundTrip", "RefreshGrace/ConcurrentRotate", "RefreshGrace/SeedSwept"}},
		{"ClaimMail ignores leases and due times",
			func(m *pbxauth.MemoryStore) pbxauth.Store { return earlyClaims{m} },
			[]string{"Outbox/ClaimRoundTrip", "Outbox/DueOrder", "Outbox/LeaseExpires", "Outbox/UpdateAndRelease"}},
		{"Families lists oldest first",
			func(m *pbxauth.MemoryStore) pbxauth.Store { return oldestFirst{m} },
			[]string{"SignIns/FamiliesNewestFirst"}},
		{"TouchFamily writes every time",
			func(m *pbxauth.MemoryStore) pbxauth.Store { return eagerTouch{m} },
			[]string{"SignIns/TouchFamily"}},
		{"AddCounterBelow ignores the limit",
			func(m *pbxauth.MemoryStore) pbxauth.Store { return unboundedAdds{m} },
			[]string{"CounterAddBelow/Below", "CounterAddBelow/BelowNoLimit", "CounterAddBelow/ConcurrentBelow"}},
		{"AddCounterBelow writes when it refuses",
			func(m *pbxauth.MemoryStore) pbxauth.Store { return touchingRefusals{m} },
			[]string{"CounterAddBelow/Below", "CounterAddBelow/BelowKeepsOtherFields", "CounterAddBelow/BelowNoLimit"}},
		{"RevokeUserFamily ends anyone's sign-in",
			func(m *pbxauth.MemoryStore) pbxauth.Store { return revokeAnyFamily{m} },
			[]string{"SignIns/RevokeUserFamily", "SignIns/ConcurrentRevokeUserFamily"}},
		{"CreateFamily and CreateFlow ignore the epoch",
			func(m *pbxauth.MemoryStore) pbxauth.Store { return epochBlind{m} },
			[]string{"Epoch/StaleRefused", "Epoch/RaceWithEnders"}},
		{"ActivateTOTP and ReplaceRecoveryCodes ignore the epoch",
			func(m *pbxauth.MemoryStore) pbxauth.Store { return factorEpochBlind{m} },
			[]string{"Epoch/FactorsStale", "Epoch/RaceWithEnders"}},
		{"RedeemRecoveryCode spends the code whatever the flow",
			func(m *pbxauth.MemoryStore) pbxauth.Store { return spendingRedeem{m} },
			[]string{"TOTP/RedeemRecoveryCode", "TOTP/ConcurrentRedeem"}},
		{"RevokeMethodFamilies ends every method's sign-ins",
			func(m *pbxauth.MemoryStore) pbxauth.Store { return methodBlind{m} },
			[]string{"SignIns/RevokeMethodFamilies"}},
		{"CreateFamily evicts nothing",
			func(m *pbxauth.MemoryStore) pbxauth.Store { return noEviction{m} },
			[]string{"Epoch/EvictsLeastRecentlyUsed", "Epoch/EvictionUnderConcurrency"}},
		{"UseOnce records nothing",
			func(m *pbxauth.MemoryStore) pbxauth.Store { return forgetfulUseOnce{m} },
			[]string{"UseOnce/Once", "UseOnce/Concurrent", "UseOnce/Sweep"}},
		{"UseOnce ignores the purpose",
			func(m *pbxauth.MemoryStore) pbxauth.Store { return purposelessUseOnce{m} },
			[]string{"UseOnce/Once"}},
		{"DeleteExpired forgets uses at their expiry",
			func(m *pbxauth.MemoryStore) pbxauth.Store { return earlyUseOnceSweep{m} },
			[]string{"UseOnce/Sweep"}},
	} {
		t.Run(b.name, func(t *testing.T) {
			for _, name := range b.checks {
				c := checkNamed(t, name)
				if r := record(t, c, pbxauth.NewMemoryStore()); len(r.failures) > 0 || r.skipped {
					t.Fatalf("%s does not pass the reference store: %q", name, r.failures)
				}
				r := record(t, c, b.wrap(pbxauth.NewMemoryStore()))
				if len(r.failures) == 0 {
					t.Errorf("%s passes a store where %s", name, b.name)
					continue
				}
				t.Logf("%s: %s (%d failures)", name, r.failures[0], len(r.failures))
			}
		})
	}
}

// TestSweeperSkipped checks that a store without Sweeper skips its check
// rather than failing it.
func TestSweeperSkipped(t *testing.T) {
	// Embedding the interface hides MemoryStore's DeleteExpired.
	s := struct{ pbxauth.Store }{pbxauth.NewMemoryStore()}
	r := record(t, checkNamed(t, "Sweeper/DeleteExpired"), s)
	if !r.skipped || len(r.failures) > 0 {
		t.Errorf("Sweeper/DeleteExpired of a store without Sweeper: skipped %v, failures %q", r.skipped, r.failures)
	}
}
