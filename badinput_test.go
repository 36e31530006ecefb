package pbxauth_test

import (
	"strings"
	"testing"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
)

// TestBadInput sends malformed requests: each gets its documented status in
// the error shape (apitest checks the shape), computes no hash and changes
// nothing — alice can still sign in at once, so no failure was counted.
func TestBadInput(t *testing.T) {
	e := newEnv(t)
	long := strings.Repeat("x", 65)
	for _, tc := range []struct {
		name, path, body, ctype string
		status                  int
		code                    string
	}{
		{"1 MiB body", "/auth/sign_in", `{"username":"` + strings.Repeat("a", 1<<20) + `"}`, "application/json", 413, pbxauth.CodePayloadTooLarge},
		{"malformed JSON", "/auth/sign_in", `{"username":"alice",`, "application/json", 400, pbxauth.CodeInvalidArgument},
		{"not an object", "/auth/sign_in", `["alice"]`, "application/json", 400, pbxauth.CodeInvalidArgument},
		{"duplicated key", "/auth/sign_in", `{"username":"alice","password":"x","username":"bob"}`, "application/json", 400, pbxauth.CodeInvalidArgument},
		{"duplicated key, other case", "/auth/sign_in", `{"username":"alice","password":"x","Username":"bob"}`, "application/json", 400, pbxauth.CodeInvalidArgument},
		{"trailing data", "/auth/sign_in", `{"username":"alice","password":"x"} {}`, "application/json", 400, pbxauth.CodeInvalidArgument},
		{"wrong field type", "/auth/sign_in", `{"username":42,"password":"x"}`, "application/json", 400, pbxauth.CodeInvalidArgument},
		{"username of 65", "/auth/sign_in", `{"username":"` + long + `","password":"x","domain":"acme.example.test"}`, "application/json", 400, pbxauth.CodeInvalidArgument},
		{"leading period", "/auth/sign_in", `{"username":".bob","password":"x","domain":"acme.example.test"}`, "application/json", 400, pbxauth.CodeInvalidArgument},
		{"trailing period", "/auth/sign_in", `{"username":"bob.","password":"x","domain":"acme.example.test"}`, "application/json", 400, pbxauth.CodeInvalidArgument},
		{"non-ASCII username", "/auth/sign_in", `{"username":"böb","password":"x","domain":"acme.example.test"}`, "application/json", 400, pbxauth.CodeInvalidArgument},
		{"reserved name in a tenant", "/auth/sign_in", `{"username":"Admin","password":"x","domain":"acme.example.test"}`, "application/json", 400, pbxauth.CodeInvalidArgument},
		{"missing password", "/auth/sign_in", `{"username":"alice","domain":"acme.example.test"}`, "application/json", 400, pbxauth.CodeInvalidArgument},
		{"2 KiB password", "/auth/sign_in", `{"username":"alice","password":"` + strings.Repeat("p", 2048) + `","domain":"acme.example.test"}`, "application/json", 400, pbxauth.CodeInvalidArgument},
		{"text/plain", "/auth/sign_in", `{"username":"alice","password":"x"}`, "text/plain", 415, pbxauth.CodeUnsupportedMediaType},
		{"no Content-Type", "/auth/sign_in", `{"username":"alice","password":"x"}`, "", 415, pbxauth.CodeUnsupportedMediaType},
		{"refresh: wrong type", "/auth/refresh_token", `{"refresh_token":true}`, "application/json", 400, pbxauth.CodeInvalidArgument},
		{"refresh: missing", "/auth/refresh_token", `{}`, "application/json", 400, pbxauth.CodeInvalidArgument},
		{"refresh: 1 MiB", "/auth/refresh_token", `{"refresh_token":"` + strings.Repeat("a", 1<<20) + `"}`, "application/json", 413, pbxauth.CodePayloadTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := pbxauth.HashCount(e.auth)
			r := e.c.Do("POST", tc.path, tc.body, "Content-Type", tc.ctype)
			if r.Status != tc.status || r.Code() != tc.code {
				t.Fatalf("got %d %s, want %d %s", r.Status, r.Body, tc.status, tc.code)
			}
			if n := pbxauth.HashCount(e.auth) - before; n != 0 {
				t.Errorf("%d hashes computed for a refused request", n)
			}
			for _, leak := range []string{"json:", "Go", "struct", "pbxauth"} {
				if strings.Contains(string(r.Body), leak) {
					t.Errorf("error body leaks %q: %s", leak, r.Body)
				}
			}
		})
	}
	if r := e.c.Do("POST", "/auth/sign_in?qr=maybe", aliceCreds()); r.Status != 400 {
		t.Errorf("qr=maybe: %d", r.Status)
	}
	// Nothing above counted as a failed sign-in.
	for range 6 {
		if r := e.c.Do("POST", "/auth/sign_in?qr=true", aliceCreds()); r.Status != 200 {
			t.Fatalf("alice after bad input: %d %s", r.Status, r.Body)
		}
	}
}

func TestUnknownRoutesAndMethods(t *testing.T) {
	e := newEnv(t)
	if r := e.c.Do("GET", "/nope", nil); r.Status != 404 || r.Code() != pbxauth.CodeNotFound {
		t.Errorf("unknown route: %d %s", r.Status, r.Body)
	}
	r := e.c.Do("GET", "/auth/sign_in", nil)
	if r.Status != 405 || r.Code() != pbxauth.CodeMethodNotAllowed || r.Header.Get("Allow") != "POST" {
		t.Errorf("wrong method: %d %s allow=%q", r.Status, r.Body, r.Header.Get("Allow"))
	}
	if r := e.c.Do("DELETE", "/info", nil); r.Status != 405 || r.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("DELETE /info: %d allow=%q", r.Status, r.Header.Get("Allow"))
	}
}

func TestInfo(t *testing.T) {
	e := newEnv(t)
	r := e.c.Do("GET", "/info", nil)
	if r.Status != 200 || r.String("web_domain") != "pbx.example.test" || r.String("primary_dns_server") != "9.9.9.9" {
		t.Fatalf("system: %d %s", r.Status, r.Body)
	}
	if _, ok := r.JSON()["name"]; ok {
		t.Errorf("tenant fields without ?domain=: %s", r.Body)
	}
	r = e.c.Do("GET", "/info?domain=ACME.example.test", nil)
	if r.Status != 200 || r.String("name") != "Acme" || r.String("domain") != acmeDomain || r.JSON()["enable_ms365_integration"] != false {
		t.Fatalf("tenant: %d %s", r.Status, r.Body)
	}
	if r := e.c.Do("GET", "/info?domain=nope.example.test", nil); r.Status != 404 || r.Code() != pbxauth.CodeNotFound {
		t.Errorf("unknown domain: %d %s", r.Status, r.Body)
	}
	if r := e.c.Do("GET", "/info?domain=", nil); r.Status != 400 {
		t.Errorf("empty domain: %d %s", r.Status, r.Body)
	}
}

func TestBearerChallenges(t *testing.T) {
	e := newEnv(t)
	access, refresh := e.signIn(t, aliceCreds())
	check := func(name string, hdr []string, wantChallenge string) {
		t.Helper()
		r := e.c.Do("GET", "/auth/user", nil, hdr...)
		if r.Status != 401 || r.Code() != pbxauth.CodeUnauthorized || r.Header.Get("WWW-Authenticate") != wantChallenge {
			t.Errorf("%s: %d %s WWW-Authenticate=%q", name, r.Status, r.Body, r.Header.Get("WWW-Authenticate"))
		}
	}
	check("no token", nil, `Bearer realm="pbxauth"`)
	check("basic", []string{"Authorization", "Basic YWxpY2U6eA=="}, `Bearer realm="pbxauth"`)
	check("wrong token", apitest.Bearer("not-a-token"), `Bearer realm="pbxauth", error="invalid_token"`)
	check("refresh token as bearer", apitest.Bearer(refresh), `Bearer realm="pbxauth", error="invalid_token"`)
	if r := e.c.Do("GET", "/auth/user", nil, "Authorization", "bearer "+access); r.Status != 200 {
		t.Errorf("lower-case scheme: %d", r.Status)
	}
	e.clock.Advance(3600e9)
	check("expired token", apitest.Bearer(access), `Bearer realm="pbxauth", error="invalid_token"`)
}

func TestDisabledUserTokensStop(t *testing.T) {
	e := newEnv(t)
	access, refresh := e.signIn(t, aliceCreds())
	u, err := e.store.User(t.Context(), aliceID)
	if err != nil {
		t.Fatal(err)
	}
	u.Disabled = true
	if err := e.store.UpdateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	if r := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(access)...); r.Status != 401 {
		t.Errorf("access token of a disabled user: %d", r.Status)
	}
	if r := e.c.Do("POST", "/auth/refresh_token", map[string]string{"refresh_token": refresh}); r.Status != 401 {
		t.Errorf("refresh of a disabled user: %d", r.Status)
	}
}
