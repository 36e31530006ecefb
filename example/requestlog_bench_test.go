// BenchmarkRequestLog measures what the request log costs GET /auth/user
// through the example's handlers, in CPU time of the whole process per
// request, the writer goroutine included (writing to io.Discard), beside
// a bare handler answering the same body: the figures BENCHMARKS.md sets
// beside the load tool's, which a busy machine blurs.

package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/store"
)

func BenchmarkRequestLog(b *testing.B) {
	for _, name := range []string{"bare", "log=off", "log=on"} {
		b.Run(name, func(b *testing.B) {
			log := newAsyncLog(io.Discard, nil)
			h, token := benchServer(b, log, name == "log=on")
			if name == "bare" {
				h = http.HandlerFunc(bareUserInfo)
			}
			req := httptest.NewRequest("GET", "/api/auth/user", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			var before, after syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &before)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
			log.Close() // the writer's work is part of the cost
			syscall.Getrusage(syscall.RUSAGE_SELF, &after)
			cpu := after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano()
			b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

// bareUserInfo answers what GET /api/auth/user answers the system admin,
// with no check, as the load tool's bare handler does (bench/load): the
// floor the example's chain is measured against.
func bareUserInfo(w http.ResponseWriter, r *http.Request) {
	b, _ := json.Marshal(struct {
		Username           string `json:"username"`
		Role               string `json:"role"`
		PasswordVerified   bool   `json:"password_verified"`
		PasswordForceReset bool   `json:"password_force_reset"`
	}{"admin", pbxauth.RoleSystemAdmin, true, false})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// benchServer is the example's handler chain over a memory store with one
// signed-in system admin, whose access token it returns.
func benchServer(b *testing.B, log *asyncLog, on bool) (http.Handler, string) {
	ctx := context.Background()
	st := memstore.New()
	a, err := pbxauth.New(pbxauth.Config{Store: st, Argon2: pbxauth.Argon2Params{Memory: 64, Time: 1, Threads: 1}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.Close() })
	hash, err := a.HashPassword(ctx, "admin-pw-12345")
	if err != nil {
		b.Fatal(err)
	}
	if err := st.CreateUser(ctx, store.User{ID: store.NewID(), Username: "admin", Role: pbxauth.RoleSystemAdmin, PasswordHash: hash}); err != nil {
		b.Fatal(err)
	}
	h := routeAPI(http.NewServeMux(), a.Handler())
	if on {
		h = logRequests(h, log)
	}
	h = a.WithRequestInfo(h)
	w := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/api/auth/sign_in", strings.NewReader(`{"username":"admin","password":"admin-pw-12345"}`))
	r.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(w, r)
	var pair struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(w.Body).Decode(&pair); err != nil || pair.AccessToken == "" {
		b.Fatalf("sign in: %d %v", w.Code, err)
	}
	return h, pair.AccessToken
}
