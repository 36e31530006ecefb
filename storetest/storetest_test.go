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

	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/store"
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
func record(t *testing.T, c check, s store.Store) *recorder {
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
	reusableFlows struct{ *memstore.Store }
	// caseSensitiveNames finds a user only by the username's exact case.
	caseSensitiveNames struct{ *memstore.Store }
	// hiddenReuse reports a reused refresh token as missing.
	hiddenReuse struct{ *memstore.Store }
	// blindFlowUpdates ignores the version UpdateFlow is given.
	blindFlowUpdates struct{ *memstore.Store }
	// lateFlowExpiry still shows a flow at its ExpiresAt.
	lateFlowExpiry struct{ *memstore.Store }
	// keptSignIns resets a password without revoking the user's sign-ins.
	keptSignIns struct{ *memstore.Store }
	// changeEpochBlind changes a password whatever the epoch it is given.
	changeEpochBlind struct{ *memstore.Store }
	// caseBlindRename refuses a rename to any name found, the user's own
	// in another case too.
	caseBlindRename struct{ *memstore.Store }
	// changeEndsAll changes a password as a reset does, ending the
	// caller's sign-in too.
	changeEndsAll struct{ *memstore.Store }
	// immortalCounters compares versions with expired counters too.
	immortalCounters struct{ *memstore.Store }
	// earlyClaims claims records two minutes early: before they are due,
	// and while another worker's lease still holds them.
	earlyClaims struct{ *memstore.Store }
	// lostSuccessors never returns a reused token's successor.
	lostSuccessors struct{ *memstore.Store }
	// oldestFirst lists a user's sign-ins oldest first.
	oldestFirst struct{ *memstore.Store }
	// eagerTouch writes LastUsedAt on every touch.
	eagerTouch struct{ *memstore.Store }
	// revokeAnyFamily ends another user's sign-in too.
	revokeAnyFamily struct{ *memstore.Store }
	// epochBlind stores sign-ins and flows whatever the epoch they carry.
	epochBlind struct{ *memstore.Store }
	// factorEpochBlind confirms apps and replaces recovery codes whatever
	// the epoch they carry.
	factorEpochBlind struct{ *memstore.Store }
	// spendingRedeem spends the code, then tries the flow: a code is
	// spent on a flow it cannot complete.
	spendingRedeem struct{ *memstore.Store }
	// methodBlind ends every sign-in of the user, whatever its method.
	methodBlind struct{ *memstore.Store }
	// noEviction keeps every sign-in, whatever the bound.
	noEviction struct{ *memstore.Store }
	// unboundedAdds adds whatever the limit.
	unboundedAdds struct{ *memstore.Store }
	// touchingRefusals writes a refused conditional add (a later expiry, a
	// new version), as an add of 0 would.
	touchingRefusals struct{ *memstore.Store }
	// firstPolicyOnly keeps a tenant's first password policy for good.
	firstPolicyOnly struct{ *memstore.Store }
	// lengthsOnlyPolicies keeps a password policy's lengths, not its rules.
	lengthsOnlyPolicies struct{ *memstore.Store }
	// versionBlindPolicies puts a password policy over whatever is stored.
	versionBlindPolicies struct{ *memstore.Store }
	// forgetfulUseOnce never records a use.
	forgetfulUseOnce struct{ *memstore.Store }
	// purposelessUseOnce records uses by id alone.
	purposelessUseOnce struct{ *memstore.Store }
	// earlyUseOnceSweep sweeps uses at their expiry, without the margin.
	earlyUseOnceSweep struct{ *memstore.Store }
	// unlinkRelink rekeys in two steps: the user is unlinked, then linked
	// under the new subject.
	unlinkRelink struct{ *memstore.Store }
	// userBlindRekey rekeys the link whoever its user is.
	userBlindRekey struct{ *memstore.Store }
	// unfoldedOrder lists by the keys as given, not folded.
	unfoldedOrder struct{ *memstore.Store }
	// collatedOrder lists in the order of a locale's collation, which
	// passes over punctuation.
	collatedOrder struct{ *memstore.Store }
	// inclusiveCursor starts a page at its cursor rather than after it.
	inclusiveCursor struct{ *memstore.Store }
	// everyonesUsers lists the users of every tenant.
	everyonesUsers struct{ *memstore.Store }
	// unboundedPasskeys adds passkeys whatever the limit.
	unboundedPasskeys struct{ *memstore.Store }
	// countBlindUse accepts a use whose count does not move forward.
	countBlindUse struct{ *memstore.Store }
	// epochBlindPasskeys adds passkeys whatever the epoch they carry.
	epochBlindPasskeys struct{ *memstore.Store }
	// perUserCredentials keeps a credential ID unique per user only.
	perUserCredentials struct{ *memstore.Store }
	// resetKeepsPasskeys resets a password and deletes no passkey.
	resetKeepsPasskeys struct{ *memstore.Store }
	// deleteEndsAll ends every sign-in of the user with a passkey.
	deleteEndsAll struct{ *memstore.Store }
	// passkeyBlindSignIns stores sign-ins without their passkey.
	passkeyBlindSignIns struct{ *memstore.Store }
)

func (s unboundedPasskeys) AddPasskey(ctx context.Context, p store.Passkey, epoch int64, familyID string, max int, now time.Time) error {
	return s.Store.AddPasskey(ctx, p, epoch, familyID, 1<<30, now)
}

func (s countBlindUse) UsePasskey(ctx context.Context, id string, count uint32, bs bool, now time.Time) error {
	err := s.Store.UsePasskey(ctx, id, count, bs, now)
	if errors.Is(err, store.ErrStale) {
		return s.TouchPasskey(ctx, id, bs, now)
	}
	return err
}

func (s epochBlindPasskeys) AddPasskey(ctx context.Context, p store.Passkey, epoch int64, familyID string, max int, now time.Time) error {
	return s.Store.AddPasskey(ctx, p, current(ctx, s, p.UserID), familyID, max, now)
}

func (s perUserCredentials) AddPasskey(ctx context.Context, p store.Passkey, epoch int64, familyID string, max int, now time.Time) error {
	p.CredentialID = append(slices.Clip(p.CredentialID), p.UserID...)
	return s.Store.AddPasskey(ctx, p, epoch, familyID, max, now)
}

func (s resetKeepsPasskeys) ResetPasswordPasskeys(ctx context.Context, userID, newHash string, since time.Time) ([]store.Passkey, error) {
	return s.Store.ResetPasswordPasskeys(ctx, userID, newHash, time.Time{})
}

func (s deleteEndsAll) DeletePasskey(ctx context.Context, userID, id string, now time.Time) ([]string, error) {
	if _, err := s.Store.DeletePasskey(ctx, userID, id, now); err != nil {
		return nil, err
	}
	return s.RevokeOtherFamilies(ctx, userID, "", now)
}

func (s passkeyBlindSignIns) CreateFamily(ctx context.Context, f store.Family, maxLive int, ts ...store.Token) ([]string, error) {
	f.PasskeyID = ""
	return s.Store.CreateFamily(ctx, f, maxLive, ts...)
}

func (s unlinkRelink) RekeyIdentity(ctx context.Context, id store.Identity, from string) error {
	if u, err := s.IdentityUser(ctx, id.TenantID, id.Issuer, from); err != nil || u != id.UserID {
		return store.ErrNotFound
	}
	if err := s.UnlinkUser(ctx, id.TenantID, id.UserID); err != nil {
		return err
	}
	return s.LinkIdentity(ctx, id)
}

func (s userBlindRekey) RekeyIdentity(ctx context.Context, id store.Identity, from string) error {
	if u, err := s.IdentityUser(ctx, id.TenantID, id.Issuer, from); err == nil {
		id.UserID = u
	}
	return s.Store.RekeyIdentity(ctx, id, from)
}

func (s unfoldedOrder) Tenants(ctx context.Context, after string, limit int) ([]store.Tenant, error) {
	all, err := s.Store.Tenants(ctx, "", 1000)
	slices.SortFunc(all, func(a, b store.Tenant) int { return strings.Compare(a.Domain, b.Domain) })
	return cut(all, func(t store.Tenant) string { return t.Domain }, after, limit), err
}

func (s unfoldedOrder) Users(ctx context.Context, tenantID, after string, limit int) ([]store.User, error) {
	all, err := s.Store.Users(ctx, tenantID, "", 1000)
	slices.SortFunc(all, func(a, b store.User) int { return strings.Compare(a.Username, b.Username) })
	return cut(all, func(u store.User) string { return u.Username }, after, limit), err
}

// collationKey is s as a locale's collation compares it first: folded,
// punctuation passed over.
func collationKey(s string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune("-._'", r) {
			return -1
		}
		return r
	}, strings.ToLower(s))
}

func (s collatedOrder) Tenants(ctx context.Context, after string, limit int) ([]store.Tenant, error) {
	all, err := s.Store.Tenants(ctx, "", 1000)
	slices.SortFunc(all, func(a, b store.Tenant) int { return strings.Compare(collationKey(a.Domain), collationKey(b.Domain)) })
	return cut(all, func(t store.Tenant) string { return t.Domain }, after, limit), err
}

func (s collatedOrder) Users(ctx context.Context, tenantID, after string, limit int) ([]store.User, error) {
	all, err := s.Store.Users(ctx, tenantID, "", 1000)
	slices.SortFunc(all, func(a, b store.User) int { return strings.Compare(collationKey(a.Username), collationKey(b.Username)) })
	return cut(all, func(u store.User) string { return u.Username }, after, limit), err
}

// cut returns at most limit of sorted recs from the one after the record
// whose key is after, in any case (all of them for "").
func cut[T any](recs []T, key func(T) string, after string, limit int) []T {
	if after != "" {
		i := slices.IndexFunc(recs, func(r T) bool { return strings.EqualFold(key(r), after) })
		recs = recs[i+1:]
	}
	return recs[:min(limit, len(recs))]
}

func (s inclusiveCursor) Users(ctx context.Context, tenantID, after string, limit int) ([]store.User, error) {
	if after != "" {
		after = after[:len(after)-1]
	}
	return s.Store.Users(ctx, tenantID, after, limit)
}

func (s inclusiveCursor) Tenants(ctx context.Context, after string, limit int) ([]store.Tenant, error) {
	if after != "" {
		after = after[:len(after)-1]
	}
	return s.Store.Tenants(ctx, after, limit)
}

func (s everyonesUsers) Users(ctx context.Context, tenantID, after string, limit int) ([]store.User, error) {
	var all []store.User
	for _, id := range []string{"", "t-acme", "t-other"} {
		us, err := s.Store.Users(ctx, id, after, limit)
		if err != nil {
			return nil, err
		}
		all = append(all, us...)
	}
	slices.SortFunc(all, func(a, b store.User) int {
		return strings.Compare(strings.ToLower(a.Username), strings.ToLower(b.Username))
	})
	return all[:min(limit, len(all))], nil
}

func (s unboundedAdds) AddCounterBelow(ctx context.Context, key string, limit int, expiresAt, now time.Time) (store.Counter, bool, error) {
	c, err := s.AddCounter(ctx, key, 1, expiresAt, now)
	return c, err == nil, err
}

func (s touchingRefusals) AddCounterBelow(ctx context.Context, key string, limit int, expiresAt, now time.Time) (store.Counter, bool, error) {
	c, added, err := s.Store.AddCounterBelow(ctx, key, limit, expiresAt, now)
	if err == nil && !added {
		_, err = s.AddCounter(ctx, key, 0, expiresAt, now)
	}
	return c, added, err
}

func (s firstPolicyOnly) PutPasswordPolicy(ctx context.Context, p store.PasswordPolicy) error {
	if _, err := s.PasswordPolicy(ctx, p.TenantID); err == nil {
		return nil
	}
	return s.Store.PutPasswordPolicy(ctx, p)
}

func (s lengthsOnlyPolicies) PutPasswordPolicy(ctx context.Context, p store.PasswordPolicy) error {
	return s.Store.PutPasswordPolicy(ctx, store.PasswordPolicy{TenantID: p.TenantID, MinLength: p.MinLength, MaxLength: p.MaxLength})
}

func (s versionBlindPolicies) PutPasswordPolicy(ctx context.Context, p store.PasswordPolicy) error {
	cur, _ := s.PasswordPolicy(ctx, p.TenantID) // Version 0 when none is stored
	p.Version = cur.Version
	return s.Store.PutPasswordPolicy(ctx, p)
}

func (s forgetfulUseOnce) UseOnce(ctx context.Context, purpose string, id [16]byte, expiresAt time.Time) error {
	return nil
}

func (s purposelessUseOnce) UseOnce(ctx context.Context, purpose string, id [16]byte, expiresAt time.Time) error {
	return s.Store.UseOnce(ctx, "", id, expiresAt)
}

func (s earlyUseOnceSweep) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	return s.Store.DeleteExpired(ctx, now.Add(store.UseOnceMargin))
}

func (s lostSuccessors) RotateRefresh(ctx context.Context, h store.Hash, now time.Time, next ...store.Token) (store.Grant, error) {
	g, err := s.Store.RotateRefresh(ctx, h, now, next...)
	g.Successor = store.Token{}
	return g, err
}

func (s earlyClaims) ClaimMail(ctx context.Context, claim string, now, until time.Time) (store.OutboxMail, error) {
	return s.Store.ClaimMail(ctx, claim, now.Add(2*time.Minute), until)
}

func (s reusableFlows) ConsumeFlow(ctx context.Context, h store.Hash, purpose store.FlowPurpose, now time.Time) (store.Flow, error) {
	f, err := s.Flow(ctx, h, now)
	if err != nil || f.Purpose != purpose {
		return store.Flow{}, store.ErrNotFound
	}
	return f, nil
}

func (s caseSensitiveNames) UserByName(ctx context.Context, tenantID, username string) (store.User, error) {
	u, err := s.Store.UserByName(ctx, tenantID, username)
	if err == nil && u.Username != username {
		return store.User{}, store.ErrNotFound
	}
	return u, err
}

func (s hiddenReuse) RotateRefresh(ctx context.Context, h store.Hash, now time.Time, next ...store.Token) (store.Grant, error) {
	g, err := s.Store.RotateRefresh(ctx, h, now, next...)
	if errors.Is(err, store.ErrTokenReused) {
		return store.Grant{}, store.ErrNotFound
	}
	return g, err
}

func (s blindFlowUpdates) UpdateFlow(ctx context.Context, f store.Flow, now time.Time) error {
	stored, err := s.Flow(ctx, f.Hash, now)
	if err != nil {
		return err
	}
	f.Version = stored.Version
	return s.Store.UpdateFlow(ctx, f, now)
}

func (s lateFlowExpiry) Flow(ctx context.Context, h store.Hash, now time.Time) (store.Flow, error) {
	return s.Store.Flow(ctx, h, now.Add(-time.Nanosecond))
}

func (s keptSignIns) ResetPassword(ctx context.Context, userID, newHash string) error {
	u, err := s.User(ctx, userID)
	if err != nil {
		return err
	}
	u.PasswordHash, u.PasswordForceReset = newHash, false
	return s.UpdateUser(ctx, u)
}

func (s changeEpochBlind) ChangePassword(ctx context.Context, userID string, epoch int64, keep, newHash string, now time.Time) ([]string, error) {
	return s.Store.ChangePassword(ctx, userID, current(ctx, s, userID), keep, newHash, now)
}

func (s changeEndsAll) ChangePassword(ctx context.Context, userID string, epoch int64, keep, newHash string, now time.Time) ([]string, error) {
	return nil, s.ResetPassword(ctx, userID, newHash)
}

func (s caseBlindRename) SetUsername(ctx context.Context, userID, username string) error {
	u, err := s.User(ctx, userID)
	if err != nil {
		return err
	}
	if _, err := s.UserByName(ctx, u.TenantID, username); err == nil {
		return store.ErrConflict
	}
	return s.Store.SetUsername(ctx, userID, username)
}

func (s immortalCounters) PutCounter(ctx context.Context, c store.Counter, now time.Time) error {
	// At the zero time every stored counter is live.
	return s.Store.PutCounter(ctx, c, time.Time{})
}

func (s oldestFirst) Families(ctx context.Context, userID string, now time.Time) ([]store.Family, error) {
	fs, err := s.Store.Families(ctx, userID, now)
	slices.Reverse(fs)
	return fs, err
}

func (s eagerTouch) TouchFamily(ctx context.Context, familyID string, now, staleBefore time.Time) error {
	return s.Store.TouchFamily(ctx, familyID, now, now)
}

// current is the user's epoch of now: what a store that never compared
// would behave as if it was given.
func current(ctx context.Context, s store.Store, userID string) int64 {
	u, _ := s.User(ctx, userID)
	return u.Epoch
}

func (s epochBlind) CreateFamily(ctx context.Context, f store.Family, maxLive int, ts ...store.Token) ([]string, error) {
	f.Epoch = current(ctx, s, f.UserID)
	return s.Store.CreateFamily(ctx, f, maxLive, ts...)
}

func (s epochBlind) CreateFlow(ctx context.Context, f store.Flow) error {
	f.Epoch = current(ctx, s, f.UserID)
	return s.Store.CreateFlow(ctx, f)
}

func (s factorEpochBlind) ActivateTOTP(ctx context.Context, userID string, epoch, step int64, hashes []string) error {
	return s.Store.ActivateTOTP(ctx, userID, current(ctx, s, userID), step, hashes)
}

func (s factorEpochBlind) ReplaceRecoveryCodes(ctx context.Context, userID string, epoch int64, hashes []string) error {
	return s.Store.ReplaceRecoveryCodes(ctx, userID, current(ctx, s, userID), hashes)
}

func (s spendingRedeem) RedeemRecoveryCode(ctx context.Context, userID, hash string, h store.Hash, now time.Time) (store.Flow, error) {
	if err := s.ConsumeRecoveryCode(ctx, userID, hash); err != nil {
		return store.Flow{}, err
	}
	f, err := s.ConsumeFlow(ctx, h, store.FlowTwoFactor, now)
	if errors.Is(err, store.ErrNotFound) || (err == nil && f.UserID != userID) {
		return store.Flow{}, store.ErrStale
	}
	return f, err
}

func (s methodBlind) RevokeMethodFamilies(ctx context.Context, userID, method string, now time.Time) ([]string, error) {
	return s.RevokeOtherFamilies(ctx, userID, "", now)
}

func (s noEviction) CreateFamily(ctx context.Context, f store.Family, maxLive int, ts ...store.Token) ([]string, error) {
	return s.Store.CreateFamily(ctx, f, 0, ts...)
}

func (s revokeAnyFamily) RevokeUserFamily(ctx context.Context, userID, familyID string, now time.Time) error {
	return s.Store.RevokeFamily(ctx, familyID)
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
		wrap   func(*memstore.Store) store.Store
		checks []string
	}{
		{"ConsumeFlow keeps the flow",
			func(m *memstore.Store) store.Store { return reusableFlows{m} },
			[]string{"Flows/ConsumeOnce", "Flows/ConcurrentConsume"}},
		{"UserByName minds case",
			func(m *memstore.Store) store.Store { return caseSensitiveNames{m} },
			[]string{"Users/RoundTrip", "Users/TenantIsolation", "Users/Update"}},
		{"RotateRefresh hides reuse",
			func(m *memstore.Store) store.Store { return hiddenReuse{m} },
			[]string{"Tokens/RotateRefresh", "Tokens/ConcurrentRotate", "Sweeper/DeleteExpired"}},
		{"UpdateFlow ignores the version",
			func(m *memstore.Store) store.Store { return blindFlowUpdates{m} },
			[]string{"Flows/Update"}}, // racers may all re-read and one win by chance
		{"Flow lives at its expiry",
			func(m *memstore.Store) store.Store { return lateFlowExpiry{m} },
			[]string{"Flows/Expiry"}},
		{"ResetPassword keeps sign-ins",
			func(m *memstore.Store) store.Store { return keptSignIns{m} },
			[]string{"Users/ResetPassword"}},
		{"ChangePassword ignores the epoch",
			func(m *memstore.Store) store.Store { return changeEpochBlind{m} },
			[]string{"Password/ChangePasswordStale", "Password/ConcurrentChangePassword"}},
		{"ChangePassword ends the caller's sign-in",
			func(m *memstore.Store) store.Store { return changeEndsAll{m} },
			[]string{"Password/ChangePassword"}},
		{"SetUsername refuses a change of case",
			func(m *memstore.Store) store.Store { return caseBlindRename{m} },
			[]string{"Rename/SetUsername"}},
		{"PutCounter sees expired counters",
			func(m *memstore.Store) store.Store { return immortalCounters{m} },
			[]string{"Counters/Expiry", "Counters/ConcurrentPut"}},
		{"RotateRefresh loses the successor",
			func(m *memstore.Store) store.Store { return lostSuccessors{m} },
			[]string{"RefreshGrace/SeedRoundTrip", "RefreshGrace/ConcurrentRotate", "RefreshGrace/SeedSwept"}},
		{"ClaimMail ignores leases and due times",
			func(m *memstore.Store) store.Store { return earlyClaims{m} },
			[]string{"Outbox/ClaimRoundTrip", "Outbox/DueOrder", "Outbox/LeaseExpires", "Outbox/UpdateAndRelease"}},
		{"Families lists oldest first",
			func(m *memstore.Store) store.Store { return oldestFirst{m} },
			[]string{"SignIns/FamiliesNewestFirst"}},
		{"TouchFamily writes every time",
			func(m *memstore.Store) store.Store { return eagerTouch{m} },
			[]string{"SignIns/TouchFamily"}},
		{"AddCounterBelow ignores the limit",
			func(m *memstore.Store) store.Store { return unboundedAdds{m} },
			[]string{"CounterAddBelow/Below", "CounterAddBelow/BelowNoLimit", "CounterAddBelow/ConcurrentBelow"}},
		{"AddCounterBelow writes when it refuses",
			func(m *memstore.Store) store.Store { return touchingRefusals{m} },
			[]string{"CounterAddBelow/Below", "CounterAddBelow/BelowKeepsOtherFields", "CounterAddBelow/BelowNoLimit"}},
		{"RevokeUserFamily ends anyone's sign-in",
			func(m *memstore.Store) store.Store { return revokeAnyFamily{m} },
			[]string{"SignIns/RevokeUserFamily", "SignIns/ConcurrentRevokeUserFamily"}},
		{"CreateFamily and CreateFlow ignore the epoch",
			func(m *memstore.Store) store.Store { return epochBlind{m} },
			[]string{"Epoch/StaleRefused", "Epoch/RaceWithEnders"}},
		{"ActivateTOTP and ReplaceRecoveryCodes ignore the epoch",
			func(m *memstore.Store) store.Store { return factorEpochBlind{m} },
			[]string{"Epoch/FactorsStale", "Epoch/RaceWithEnders"}},
		{"RedeemRecoveryCode spends the code whatever the flow",
			func(m *memstore.Store) store.Store { return spendingRedeem{m} },
			[]string{"TOTP/RedeemRecoveryCode", "TOTP/ConcurrentRedeem"}},
		{"RevokeMethodFamilies ends every method's sign-ins",
			func(m *memstore.Store) store.Store { return methodBlind{m} },
			[]string{"SignIns/RevokeMethodFamilies"}},
		{"CreateFamily evicts nothing",
			func(m *memstore.Store) store.Store { return noEviction{m} },
			[]string{"Epoch/EvictsLeastRecentlyUsed", "Epoch/EvictionUnderConcurrency"}},
		{"PutPasswordPolicy keeps the first policy",
			func(m *memstore.Store) store.Store { return firstPolicyOnly{m} },
			[]string{"PasswordPolicy/RoundTrip"}},
		{"PutPasswordPolicy drops the rules",
			func(m *memstore.Store) store.Store { return lengthsOnlyPolicies{m} },
			[]string{"PasswordPolicy/RoundTrip"}},
		{"PutPasswordPolicy ignores the version",
			func(m *memstore.Store) store.Store { return versionBlindPolicies{m} },
			[]string{"PasswordPolicy/Versions"}}, // racers may all re-read and one win by chance
		{"UseOnce records nothing",
			func(m *memstore.Store) store.Store { return forgetfulUseOnce{m} },
			[]string{"UseOnce/Once", "UseOnce/Concurrent", "UseOnce/Sweep"}},
		{"UseOnce ignores the purpose",
			func(m *memstore.Store) store.Store { return purposelessUseOnce{m} },
			[]string{"UseOnce/Once"}},
		{"RekeyIdentity unlinks, then links",
			func(m *memstore.Store) store.Store { return unlinkRelink{m} },
			[]string{"Identities/RekeyRefused"}},
		{"RekeyIdentity ignores the user",
			func(m *memstore.Store) store.Store { return userBlindRekey{m} },
			[]string{"Identities/RekeyRefused"}},
		{"DeleteExpired forgets uses at their expiry",
			func(m *memstore.Store) store.Store { return earlyUseOnceSweep{m} },
			[]string{"UseOnce/Sweep"}},
		{"Tenants and Users order by the unfolded keys",
			func(m *memstore.Store) store.Store { return unfoldedOrder{m} },
			[]string{"Listing/TenantPages", "Listing/UserPages"}},
		{"Tenants and Users order by a locale's collation",
			func(m *memstore.Store) store.Store { return collatedOrder{m} },
			[]string{"Listing/TenantPages", "Listing/UserPages"}},
		{"Tenants and Users start at the cursor",
			func(m *memstore.Store) store.Store { return inclusiveCursor{m} },
			[]string{"Listing/TenantPages", "Listing/UserPages"}},
		{"Users lists every tenant's users",
			func(m *memstore.Store) store.Store { return everyonesUsers{m} },
			[]string{"Listing/UserPages", "Listing/UsersFollowTheirTenant"}},
		{"AddPasskey ignores the limit",
			func(m *memstore.Store) store.Store { return unboundedPasskeys{m} },
			[]string{"Passkeys/ConcurrentLimit"}},
		{"UsePasskey accepts a count that does not move forward",
			func(m *memstore.Store) store.Store { return countBlindUse{m} },
			[]string{"Passkeys/CountOnlyForward", "Passkeys/ConcurrentUse"}},
		{"AddPasskey ignores the epoch",
			func(m *memstore.Store) store.Store { return epochBlindPasskeys{m} },
			[]string{"Passkeys/AddRefusedStale"}},
		{"AddPasskey keeps credential IDs unique per user only",
			func(m *memstore.Store) store.Store { return perUserCredentials{m} },
			[]string{"Passkeys/UniqueCredentialID", "Passkeys/ConcurrentCredentialID"}},
		{"ResetPasswordPasskeys keeps the recent passkeys",
			func(m *memstore.Store) store.Store { return resetKeepsPasskeys{m} },
			[]string{"Passkeys/ResetPasswordDeletesRecent", "Passkeys/RaceWithReset"}},
		{"DeletePasskey ends every sign-in",
			func(m *memstore.Store) store.Store { return deleteEndsAll{m} },
			[]string{"Passkeys/DeleteEndsItsSignIns"}},
		{"CreateFamily forgets the passkey",
			func(m *memstore.Store) store.Store { return passkeyBlindSignIns{m} },
			[]string{"Passkeys/DeleteEndsItsSignIns", "Passkeys/DeleteRacesSignIns"}},
	} {
		t.Run(b.name, func(t *testing.T) {
			for _, name := range b.checks {
				c := checkNamed(t, name)
				if r := record(t, c, memstore.New()); len(r.failures) > 0 || r.skipped {
					t.Fatalf("%s does not pass the reference store: %q", name, r.failures)
				}
				r := record(t, c, b.wrap(memstore.New()))
				if len(r.failures) == 0 {
					t.Errorf("%s passes a store where %s", name, b.name)
					continue
				}
				t.Logf("%s: %s (%d failures)", name, r.failures[0], len(r.failures))
			}
		})
	}
}

// TestListingSkipped checks that a store without DirectoryLister skips the
// Listing checks rather than failing them.
func TestListingSkipped(t *testing.T) {
	s := struct{ store.Store }{memstore.New()}
	for _, name := range []string{"Listing/TenantPages", "Listing/UserPages", "Listing/UsersFollowTheirTenant"} {
		if r := record(t, checkNamed(t, name), s); !r.skipped || len(r.failures) > 0 {
			t.Errorf("%s of a store without DirectoryLister: skipped %v, failures %q", name, r.skipped, r.failures)
		}
	}
}

// TestSweeperSkipped checks that a store without Sweeper skips its check
// rather than failing it.
func TestSweeperSkipped(t *testing.T) {
	// Embedding the interface hides MemoryStore's DeleteExpired.
	s := struct{ store.Store }{memstore.New()}
	r := record(t, checkNamed(t, "Sweeper/DeleteExpired"), s)
	if !r.skipped || len(r.failures) > 0 {
		t.Errorf("Sweeper/DeleteExpired of a store without Sweeper: skipped %v, failures %q", r.skipped, r.failures)
	}
}
