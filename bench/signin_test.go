// This file measures a password sign-in beside the one argon2id hash it
// cannot avoid, alternating the two inside one loop so that both see the same
// machine.

package bench

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/store"
	"golang.org/x/crypto/argon2"
)

const (
	signInDomain   = "acme.example.test"
	signInPassword = "correct-horse-battery"
)

// BenchmarkSignIn times, in each iteration, one POST /auth/sign_in that
// succeeds (DefaultArgon2) and one bare argon2.IDKey with the same
// parameters, in alternating order. It reports both medians and the
// sign-in's overhead over the hash; ns/op is the sum of the two.
func BenchmarkSignIn(b *testing.B) {
	a, _ := signInBench(b, pbxauth.Config{})

	h := a.Handler()
	body := `{"username":"bench","password":"` + signInPassword + `","domain":"` + signInDomain + `"}`
	signIn := func() {
		r := httptest.NewRequest(http.MethodPost, "/auth/sign_in", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("sign_in: %d %s", w.Code, w.Body)
		}
	}
	p := pbxauth.DefaultArgon2
	salt := make([]byte, 16)
	rand.Read(salt)
	hashOnce := func() { argon2.IDKey([]byte(signInPassword), salt, p.Time, p.Memory, p.Threads, 32) }

	var signIns, hashes []time.Duration
	timed := func(f func(), into *[]time.Duration) {
		start := time.Now()
		f()
		*into = append(*into, time.Since(start))
	}
	i := 0
	for b.Loop() {
		if i%2 == 0 {
			timed(hashOnce, &hashes)
			timed(signIn, &signIns)
		} else {
			timed(signIn, &signIns)
			timed(hashOnce, &hashes)
		}
		i++
	}
	signInTime, hashTime := median(signIns), median(hashes)
	b.ReportMetric(float64(signInTime.Nanoseconds()), "signin-ns")
	b.ReportMetric(float64(hashTime.Nanoseconds()), "argon2-ns")
	b.ReportMetric(100*(float64(signInTime)-float64(hashTime))/float64(hashTime), "overhead-%")
}

// median returns the middle of ds (which it sorts).
func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// signInBench returns an Auth on a memory store with cfg (its Store set
// here) and the user "bench" of signInDomain, whose password is
// signInPassword.
func signInBench(b *testing.B, cfg pbxauth.Config) (*pbxauth.Auth, *memstore.Store) {
	b.Helper()
	ctx := context.Background()
	st := memstore.New()
	cfg.Store = st
	a, err := pbxauth.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	hash, err := a.HashPassword(ctx, signInPassword)
	if err == nil {
		err = st.CreateTenant(ctx, store.Tenant{ID: "tenant-acme", Name: "Acme", Domain: signInDomain})
	}
	if err == nil {
		err = st.CreateUser(ctx, store.User{ID: "user-bench", TenantID: "tenant-acme", Username: "bench", Role: "StandardUser", PasswordHash: hash})
	}
	if err != nil {
		b.Fatal(err)
	}
	return a, st
}
