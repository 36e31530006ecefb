package main

import (
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/pbxauth/pbxauth/internal/apitest"
)

func TestParsePrefixes(t *testing.T) {
	got, err := parsePrefixes(" 10.0.0.0/8, 192.0.2.7 ,::1,2001:db8::1/64,")
	want := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"),
		netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("2001:db8::/64"),
	}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("parsePrefixes = %v, %v; want %v", got, err, want)
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.example", "10.0.0"} {
		if _, err := parsePrefixes(bad); err == nil {
			t.Errorf("parsePrefixes(%q) accepted", bad)
		}
	}
	if ps, err := parsePrefixes(""); err != nil || len(ps) != 0 {
		t.Errorf("empty: %v %v", ps, err)
	}
}

// TestExampleForwardedHeader: -forwarded-header (PBXAUTH_FORWARDED_HEADER)
// picks the one header believed from -trusted-proxies; the other is
// ignored, and anything else stops the start.
func TestExampleForwardedHeader(t *testing.T) {
	clientIP := func(t *testing.T, url string, headers ...string) string {
		t.Helper()
		c := apitest.NewClient(t, url)
		r := c.Do("POST", "/auth/sign_in", map[string]string{"username": "admin", "password": "admin-pw-12345"}, headers...)
		if r.Status != 200 {
			t.Fatalf("sign_in: %d %s", r.Status, r.Body)
		}
		return c.CurrentClientIP(r.String("access_token"))
	}
	both := []string{"X-Forwarded-For", "198.51.100.1:4711", "Forwarded", `for="[2001:db8::2]:443"`}
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, nil, "198.51.100.1"},
		{nil, []string{"-forwarded-header", "Forwarded"}, "2001:db8::2"},
		{map[string]string{"PBXAUTH_FORWARDED_HEADER": "Forwarded"}, nil, "2001:db8::2"},
	} {
		env := map[string]string{"PBXAUTH_ADMIN_PASSWORD": "admin-pw-12345", "PBXAUTH_TRUSTED_PROXIES": "127.0.0.1"}
		for k, v := range tc.env {
			env[k] = v
		}
		url := startExample(t, env, tc.args...)
		if got := clientIP(t, url, both...); got != tc.want {
			t.Errorf("%v %v: client_ip %q, want %q", tc.env, tc.args, got, tc.want)
		}
	}
	if listened, err := runUntilListening(t, "-addr", "127.0.0.1:0", "-db", "memory", "-forwarded-header", "X-Real-IP"); listened || err == nil || !strings.Contains(err.Error(), "-forwarded-header") {
		t.Errorf("-forwarded-header X-Real-IP: started %v, %v", listened, err)
	}
}

// TestExampleRequireExchangeChallenge: -require-exchange-challenge
// (PBXAUTH_REQUIRE_EXCHANGE_CHALLENGE) makes a Microsoft sign-in started
// without a code_challenge a 400; without it the start goes on (here to the
// demo tenant's missing Microsoft settings). -h shows the flag.
func TestExampleRequireExchangeChallenge(t *testing.T) {
	body := map[string]any{"domain": "acme.example.test", "callback_url": "http://127.0.0.1:9999/signed-in"}
	for _, tc := range []struct {
		env      map[string]string
		args     []string
		required bool
	}{
		{nil, nil, false},
		{nil, []string{"-require-exchange-challenge"}, true},
		{map[string]string{"PBXAUTH_REQUIRE_EXCHANGE_CHALLENGE": "true"}, nil, true},
		{map[string]string{"PBXAUTH_REQUIRE_EXCHANGE_CHALLENGE": "true"}, []string{"-require-exchange-challenge=false"}, false},
	} {
		c := apitest.NewClient(t, startExample(t, tc.env, tc.args...))
		r := c.Do("POST", "/auth/sign_in/microsoft", body)
		if required := r.Status == 400 && strings.Contains(string(r.Body), "code_challenge is required"); required != tc.required {
			t.Errorf("%v %v: %d %s, want the challenge required: %v", tc.env, tc.args, r.Status, r.Body, tc.required)
		}
		withChallenge := map[string]any{"code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}
		maps.Copy(withChallenge, body)
		if r := c.Do("POST", "/auth/sign_in/microsoft", withChallenge); strings.Contains(string(r.Body), "code_challenge") {
			t.Errorf("%v %v, with a challenge: %d %s", tc.env, tc.args, r.Status, r.Body)
		}
	}
	if _, err := parseFlags(nil, func(k string) string {
		return map[string]string{"PBXAUTH_REQUIRE_EXCHANGE_CHALLENGE": "maybe"}[k]
	}); err == nil || !strings.Contains(err.Error(), "PBXAUTH_REQUIRE_EXCHANGE_CHALLENGE") {
		t.Errorf("PBXAUTH_REQUIRE_EXCHANGE_CHALLENGE=maybe: %v", err)
	}
	help := exec.Command(os.Args[0], "-h")
	help.Env = append(os.Environ(), childEnv+"=1")
	out, err := help.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "-require-exchange-challenge") || !strings.Contains(string(out), "PBXAUTH_REQUIRE_EXCHANGE_CHALLENGE") {
		t.Errorf("-h: %v\n%s", err, out)
	}
}
