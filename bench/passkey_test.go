// This file measures a passkey sign-in beside a password sign-in on one
// server in one run: what each costs the server, and so how many of each one
// core serves per second. A passkey sign-in is two requests (the options,
// then the assertion) and no argon2id hash.

package bench

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/softauthn"
)

// passkeyOrigin is the page the benchmark's passkey is used from.
const passkeyOrigin = "https://pbx.example.test"

// BenchmarkPasskeySignIn times, in each iteration, one passkey sign-in
// (POST /auth/sign_in/passkey/options and POST /auth/sign_in/passkey)
// and, in the password sub-benchmark, one POST /auth/sign_in, on the same
// memory store. The time is the server's only: the client's ECDSA signature
// is made between the two timed requests. On one goroutine, server time per
// sign-in is the time of one core (the collector aside, and on a shared
// machine the time others took it), so signins/s/core is 10⁹ over
// server-ns/op; cpu-ns/op, the whole process's CPU time, bounds it from
// the other side.
func BenchmarkPasskeySignIn(b *testing.B) {
	key := make([]byte, 32)
	rand.Read(key)
	a, _ := signInBench(b, pbxauth.Config{PublicURL: passkeyOrigin + "/api", EncryptionKeys: [][]byte{key},
		// The benchmark starts far more sign-ins from one address than a
		// person would; the start limit is not what it measures.
		Limits: pbxauth.Limits{PasskeyStarts: 1 << 30}})
	h := a.Handler()
	serve := func(path, bearer string, body any, want int) map[string]any {
		j, _ := json.Marshal(body)
		r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(j)))
		r.Header.Set("Content-Type", "application/json")
		if bearer != "" {
			r.Header.Set("Authorization", "Bearer "+bearer)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			b.Fatalf("%s: %d %s", path, w.Code, w.Body)
		}
		out := map[string]any{}
		json.Unmarshal(w.Body.Bytes(), &out)
		return out
	}
	password := map[string]string{"username": "bench", "password": signInPassword, "domain": signInDomain}
	access := serve("/auth/sign_in", "", password, 200)["access_token"].(string)
	opts := serve("/auth/passkeys/options", access, nil, 200)
	pk := opts["publicKey"].(map[string]any)
	handle, _ := base64.RawURLEncoding.DecodeString(pk["user"].(map[string]any)["id"].(string))
	cred := softauthn.New("pbx.example.test", handle)
	challenge := func(o map[string]any) []byte {
		c, _ := base64.RawURLEncoding.DecodeString(o["publicKey"].(map[string]any)["challenge"].(string))
		return c
	}
	serve("/auth/passkeys", access, map[string]any{"token": opts["token"],
		"credential": json.RawMessage(cred.Register(softauthn.Ceremony{Challenge: challenge(opts), Origin: passkeyOrigin}))}, 201)

	b.Run("passkey", func(b *testing.B) {
		var server time.Duration
		cpu := cpuTime()
		for b.Loop() {
			t0 := time.Now()
			o := serve("/auth/sign_in/passkey/options", "", map[string]any{}, 200)
			server += time.Since(t0)
			answer := cred.Assert(softauthn.Ceremony{Challenge: challenge(o), Origin: passkeyOrigin})
			t0 = time.Now()
			serve("/auth/sign_in/passkey", "", map[string]any{"token": o["token"], "credential": json.RawMessage(answer)}, 200)
			server += time.Since(t0)
		}
		reportServer(b, server, cpuTime()-cpu)
	})
	b.Run("password", func(b *testing.B) {
		var server time.Duration
		cpu := cpuTime()
		for b.Loop() {
			t0 := time.Now()
			serve("/auth/sign_in", "", password, 200)
			server += time.Since(t0)
		}
		reportServer(b, server, cpuTime()-cpu)
	})
}

// reportServer reports the server's time per sign-in, the sign-ins one
// core serves per second at that cost, and the process's CPU time per
// sign-in (cpu, which also counts the client and the collector).
func reportServer(b *testing.B, server, cpu time.Duration) {
	per := float64(server.Nanoseconds()) / float64(b.N)
	b.ReportMetric(per, "server-ns/op")
	b.ReportMetric(1e9/per, "signins/s/core")
	reportCPU(b, cpu)
}
