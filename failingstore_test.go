package pbxauth_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/store"
)

// failingStore wraps a real store and fails every call once broken is set,
// as a database that went away would.
type failingStore struct {
	store.Store
	broken atomic.Bool
	err    error // what it fails with; default errBackend
}

var (
	errBackend = errors.New("syntax error: secret-dsn-detail")
	errOutage  = fmt.Errorf("%w: connection refused: secret-dsn-detail", store.ErrUnavailable)
)

func (f *failingStore) fail() error {
	if f.broken.Load() {
		if f.err != nil {
			return f.err
		}
		return errBackend
	}
	return nil
}

func (f *failingStore) System(ctx context.Context) (store.System, error) {
	if err := f.fail(); err != nil {
		return store.System{}, err
	}
	return f.Store.System(ctx)
}

func (f *failingStore) TenantByDomain(ctx context.Context, d string) (store.Tenant, error) {
	if err := f.fail(); err != nil {
		return store.Tenant{}, err
	}
	return f.Store.TenantByDomain(ctx, d)
}

func (f *failingStore) Counter(ctx context.Context, key string, now time.Time) (store.Counter, error) {
	if err := f.fail(); err != nil {
		return store.Counter{}, err
	}
	return f.Store.Counter(ctx, key, now)
}

func (f *failingStore) AddCounterBelow(ctx context.Context, key string, limit int, expiresAt, now time.Time) (store.Counter, bool, error) {
	if err := f.fail(); err != nil {
		return store.Counter{}, false, err
	}
	return f.Store.AddCounterBelow(ctx, key, limit, expiresAt, now)
}

func (f *failingStore) CreateFamily(ctx context.Context, fam store.Family, maxLive int, ts ...store.Token) ([]string, error) {
	if err := f.fail(); err != nil {
		return nil, err
	}
	return f.Store.CreateFamily(ctx, fam, maxLive, ts...)
}

func (f *failingStore) Grant(ctx context.Context, h store.Hash, k store.TokenKind, now time.Time) (store.Grant, error) {
	if err := f.fail(); err != nil {
		return store.Grant{}, err
	}
	return f.Store.Grant(ctx, h, k, now)
}

func (f *failingStore) RotateRefresh(ctx context.Context, h store.Hash, now time.Time, next ...store.Token) (store.Grant, error) {
	if err := f.fail(); err != nil {
		return store.Grant{}, err
	}
	return f.Store.RotateRefresh(ctx, h, now, next...)
}

func (f *failingStore) RevokeFamily(ctx context.Context, id string) error {
	if err := f.fail(); err != nil {
		return err
	}
	return f.Store.RevokeFamily(ctx, id)
}

func (f *failingStore) UseOnce(ctx context.Context, purpose string, id [16]byte, expiresAt time.Time) error {
	if err := f.fail(); err != nil {
		return err
	}
	return f.Store.UseOnce(ctx, purpose, id, expiresAt)
}

// TestFailingStore: with the store failing, every operation answers 500
// INTERNAL without details and issues no token — 503 UNAVAILABLE with
// Retry-After when the failure is an outage; once it is back, the same
// tokens work — nothing was lost or half-done.
func TestFailingStore(t *testing.T) {
	t.Run("failure", func(t *testing.T) { testFailingStore(t, errBackend, 500, pbxauth.CodeInternal) })
	t.Run("outage", func(t *testing.T) { testFailingStore(t, errOutage, 503, pbxauth.CodeUnavailable) })
}

func testFailingStore(t *testing.T, fail error, status int, code string) {
	st := &failingStore{Store: memstore.New(), err: fail}
	seed(t, st.Store)
	e := newEnvWith(t, st, func(c *pbxauth.Config) { c.VolatileMail = true }) // the wrapper hides the Outbox
	access, refresh := e.signIn(t, aliceCreds())

	st.broken.Store(true)
	for _, tc := range []struct {
		method, path string
		body         any
		hdr          []string
	}{
		{"GET", "/info?domain=" + acmeDomain, nil, nil},
		{"POST", "/auth/sign_in", aliceCreds(), nil},
		{"POST", "/auth/refresh_token", map[string]string{"refresh_token": refresh}, nil},
		{"GET", "/auth/user", nil, apitest.Bearer(access)},
		{"POST", "/auth/sign_out", nil, apitest.Bearer(access)},
	} {
		r := e.c.Do(tc.method, tc.path, tc.body, tc.hdr...)
		if r.Status != status || r.Code() != code || (status == 503) != (r.Header.Get("Retry-After") != "") {
			t.Errorf("%s %s: %d %s %v", tc.method, tc.path, r.Status, r.Body, r.Header)
		}
		if strings.Contains(string(r.Body), "secret") || r.String("access_token") != "" {
			t.Errorf("%s %s leaked: %s", tc.method, tc.path, r.Body)
		}
	}

	st.broken.Store(false)
	if r := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(access)...); r.Status != 200 {
		t.Errorf("access token after the outage: %d", r.Status)
	}
	if r := e.c.Do("POST", "/auth/refresh_token", map[string]string{"refresh_token": refresh}); r.Status != 200 {
		t.Errorf("refresh token after the outage: %d %s", r.Status, r.Body)
	}
}

// TestHashQueueFull: with every hashing slot and queue place taken, a
// sign-in gets 503 with Retry-After at once instead of piling up memory; a
// refused request hashed nothing, and sign-ins work again afterwards.
func TestHashQueueFull(t *testing.T) {
	e := newEnv(t, func(c *pbxauth.Config) { c.MaxConcurrentHashes, c.HashQueue = 2, 3 })
	release := pbxauth.SaturateHasher(e.auth)
	before := pbxauth.HashCount(e.auth)
	r := e.c.Do("POST", "/auth/sign_in", aliceCreds())
	if r.Status != 503 || r.Code() != pbxauth.CodeUnavailable || r.Header.Get("Retry-After") != "1" {
		t.Fatalf("full queue: %d %s", r.Status, r.Body)
	}
	if pbxauth.HashCount(e.auth) != before {
		t.Error("a refused sign-in was hashed")
	}
	release()
	e.signIn(t, aliceCreds())
}
