// Package storetest is the conformance suite of [store.Store]: every store
// proves itself by passing it, as testing/fstest.TestFS does for file systems.
//
// A store author calls [Run] from one test of the store's package, with a
// function that returns two handles on one fresh, empty backend — two
// connection pools on one new database, as two processes would have; a
// store that lives in one process returns itself twice:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) (a, b store.Store) {
//			dsn := newTestDatabase(t)
//			return open(t, dsn), open(t, dsn) // each closed by t.Cleanup
//		})
//	}
//
// and runs it with go test -race: the suite starts real goroutines against one
// store to check that single-use records are consumed exactly once. Expiry is
// always decided by the now the suite passes, never by the wall clock, so the
// suite never sleeps. The times it stores have no sub-microsecond part and are
// compared with [time.Time.Equal], so a store may keep only microseconds and
// return any location; but the nows it passes can be one nanosecond before an
// expiry, which must then still be live.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// Run runs the conformance suite against the backends open makes, each
// check as a subtest named group/check with a backend of its own. open must
// return two handles a and b on one new, empty backend (the same store
// twice when the store lives in one process); most checks use a, and those
// about atomicity across processes race a against b. open may register
// its cleanup with t.Cleanup and fail with t.Fatal. Subtests run one after
// another, never in parallel, so open may reset a database that all of
// them share.
//
// A store that also implements an optional capability ([store.Sweeper],
// [store.TOTPStore], [store.DirectoryLister], ...) is checked for it too;
// for other stores those subtests are skipped.
func Run(t *testing.T, open func(t *testing.T) (a, b store.Store)) {
	for _, g := range suite {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.checks {
				t.Run(c.name, func(t *testing.T) {
					a, b := open(t)
					if c.pair != nil {
						c.pair(t, a, b)
						return
					}
					c.fn(t, a)
				})
			}
		})
	}
}

// tb is the part of *testing.T the checks use. It is this small so that the
// suite's own tests can run a check against a broken store with a recorder
// in place of *testing.T, and see it fail. Checks call it only from their own
// goroutine.
type tb interface {
	Helper()
	Context() context.Context
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
}

// check is one conformance check; it gets a fresh, empty store (fn), or two
// handles on one fresh, empty backend (pair).
type check struct {
	name string
	fn   func(t tb, s store.Store)
	pair func(t tb, a, b store.Store)
}

// group is the checks of one concern, run as one subtest.
type group struct {
	name   string
	checks []check
}

// suite is everything Run runs, in order.
var suite = []group{
	{"System", systemChecks},
	{"Tenants", tenantChecks},
	{"Users", userChecks},
	{"CaseFolding", caseFoldChecks},
	{"Identities", identityChecks},
	{"SignIns", signInChecks},
	{"Epoch", epochChecks},
	{"Password", passwordChecks},
	{"UserFlags", userFlagChecks},
	{"Rename", renameChecks},
	{"Tokens", tokenChecks},
	{"RefreshGrace", graceChecks},
	{"Flows", flowChecks},
	{"Counters", counterChecks},
	{"CounterAdd", counterAddChecks},
	{"CounterAddBelow", counterAddBelowChecks},
	{"Devices", deviceChecks},
	{"UseOnce", useOnceChecks},
	{"Sweeper", sweeperChecks},
	{"TOTP", totpChecks},
	{"Passkeys", passkeyChecks},
	{"Listing", listerChecks},
	{"PasswordPolicy", passwordPolicyChecks},
	{"MS365Credentials", ms365CredentialChecks},
	{"MicrosoftBindings", bindingChecks},
	{"Outbox", outboxChecks},
	{"Rules", ruleChecks},
}

// base is the suite's clock: every now is base plus an offset. It has no
// sub-microsecond part, so stores that keep microseconds round-trip it.
var base = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// at returns base plus d.
func at(d time.Duration) time.Time { return base.Add(d) }

// hash returns the hash of a token named for the suite.
func hash(name string) store.Hash { return store.HashToken("storetest/" + name) }

// racers is how many goroutines the concurrency checks start at once.
const racers = 16

// capability returns s as the optional capability T, or skips the check.
func capability[T any](t tb, s store.Store) T {
	t.Helper()
	c, ok := s.(T)
	if !ok {
		t.Skipf("%T does not implement %s", s, reflect.TypeFor[T]())
	}
	return c
}

// must stops the check when a setup step fails.
func must(t tb, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: unexpected error: %v", what, err)
	}
}

// wantErr stops the check unless err is target (possibly wrapped), or nil
// when target is nil.
func wantErr(t tb, err, target error, what string) {
	t.Helper()
	switch {
	case target == nil && err != nil:
		t.Fatalf("%s: unexpected error: %v", what, err)
	case target != nil && !errors.Is(err, target):
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

// equal reports every field where got differs from want, comparing times
// with Equal, so the location and monotonic reading a store returns do not
// matter.
func equal(t tb, what string, got, want any) {
	t.Helper()
	var diffs []string
	diff(&diffs, "", reflect.ValueOf(got), reflect.ValueOf(want))
	if len(diffs) > 0 {
		t.Errorf("%s differs:\n\t%s", what, strings.Join(diffs, "\n\t"))
	}
}

var timeType = reflect.TypeFor[time.Time]()

func diff(diffs *[]string, path string, got, want reflect.Value) {
	if got.Type() == timeType {
		g, w := got.Interface().(time.Time), want.Interface().(time.Time)
		if !g.Equal(w) {
			*diffs = append(*diffs, fmt.Sprintf("%s: got %v, want %v", path, g, w))
		}
		return
	}
	switch got.Kind() {
	case reflect.Struct:
		for i := range got.NumField() {
			diff(diffs, path+"."+got.Type().Field(i).Name, got.Field(i), want.Field(i))
		}
	case reflect.Pointer:
		switch {
		case got.IsNil() && want.IsNil():
		case got.IsNil() || want.IsNil():
			*diffs = append(*diffs, fmt.Sprintf("%s: got %v, want %v", path, got, want))
		default:
			diff(diffs, path, got.Elem(), want.Elem())
		}
	case reflect.Slice:
		if got.Len() != want.Len() {
			*diffs = append(*diffs, fmt.Sprintf("%s: got %d elements %+v, want %d %+v",
				path, got.Len(), got, want.Len(), want))
			return
		}
		for i := range got.Len() {
			diff(diffs, fmt.Sprintf("%s[%d]", path, i), got.Index(i), want.Index(i))
		}
	default:
		if g, w := got.Interface(), want.Interface(); g != w {
			*diffs = append(*diffs, fmt.Sprintf("%s: got %v, want %v", path, g, w))
		}
	}
}

// concurrently runs fn(0) … fn(n-1) in n goroutines released together once
// all of them are running, and returns their errors by index.
func concurrently(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	for i := range n {
		done.Go(func() {
			ready.Done()
			<-start
			errs[i] = fn(i)
		})
	}
	ready.Wait()
	close(start)
	done.Wait()
	return errs
}

// oneWinner checks that exactly one of errs is nil and every other is loser,
// and returns the winner's index.
func oneWinner(t tb, what string, errs []error, loser error) int {
	t.Helper()
	winner, wins := -1, 0
	for i, err := range errs {
		switch {
		case err == nil:
			winner = i
			wins++
		case !errors.Is(err, loser):
			t.Errorf("%s: racer %d: got error %v, want nil or %v", what, i, err, loser)
		}
	}
	if wins != 1 {
		t.Fatalf("%s: %d of %d racers won, want exactly 1", what, wins, len(errs))
	}
	return winner
}

// caseVariants returns s as given, in lower case and in upper case, for
// lookups that must ignore case.
func caseVariants(s string) []string {
	return []string{s, strings.ToLower(s), strings.ToUpper(s)}
}
