package main

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/pbxauth/pbxauth/internal/apitest"
)

func TestOwnOrigins(t *testing.T) {
	const base = "http://127.0.0.1:8887"
	for _, tc := range []struct {
		publicURL string
		want      []string
	}{
		{base + "/api", []string{base}},
		{"https://pbx.example.test/api", []string{base, "https://pbx.example.test"}},
		{"http://PBX.example.test:8080/auth/api/", []string{base, "http://PBX.example.test:8080"}},
		// Left to pbxauth.New to refuse.
		{"pbx.example.test/api", []string{base}},
		{"ftp://pbx.example.test/api", []string{base}},
		{"https://user:pw@pbx.example.test/api", []string{base}},
	} {
		if got := ownOrigins(base, tc.publicURL); !slices.Equal(got, tc.want) {
			t.Errorf("ownOrigins(%q) = %q, want %q", tc.publicURL, got, tc.want)
		}
	}
}

// TestExampleAllowsItsOwnOrigin: whatever the seed lists, a reset link may
// lead to the example's /reset, at the address it listens on or behind its
// -public-url; other origins stay refused, and the seed's own still work.
func TestExampleAllowsItsOwnOrigin(t *testing.T) {
	base := startExample(t, nil, "-public-url", "https://pbx.example.test/api")
	c := apitest.NewClient(t, base)
	for url, status := range map[string]int{
		base + "/reset":                       200,
		"https://pbx.example.test/reset?a=b":  200,
		"http://127.0.0.1:9999/reset":         200, // the demo seed's
		"https://pbx.example.test:8443/reset": 400,
		"http://localhost:1/reset":            400,
	} {
		r := c.Do("POST", "/auth/forget_password", map[string]string{
			"domain": "acme.example.test", "username": "bob", "callback_url": url})
		if r.Status != status {
			t.Errorf("callback_url %s: %d %s, want %d", url, r.Status, r.Body, status)
		}
	}
}

// TestPasskeyDefaultPublicURL: without -public-url, a loopback listening
// address is named localhost in the public URL, so that passkeys, whose
// RP ID cannot be an IP address, are on; other addresses stay as they are.
func TestPasskeyDefaultPublicURL(t *testing.T) {
	for _, tc := range []struct{ base, publicURL, page string }{
		{"http://127.0.0.1:8887", "http://localhost:8887/api", "http://localhost:8887"},
		{"http://[::1]:8887", "http://localhost:8887/api", "http://localhost:8887"},
		{"http://192.0.2.7:8887", "http://192.0.2.7:8887/api", ""},
		{"http://[2001:db8::7]:8887", "http://[2001:db8::7]:8887/api", ""},
	} {
		if pub, page := defaultPublicURL(tc.base); pub != tc.publicURL || page != tc.page {
			t.Errorf("defaultPublicURL(%q) = %q, %q; want %q, %q", tc.base, pub, page, tc.publicURL, tc.page)
		}
	}
}

// TestPasskeysOnByDefault: the example started with no -public-url serves
// passkeys for localhost, sends a browser that opened its listening address
// to the page under localhost, and serves the API at both.
func TestPasskeysOnByDefault(t *testing.T) {
	base := startExample(t, nil)
	page := pageURL(base)
	if page == base {
		t.Fatalf("the listening address %s is not loopback", base)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"/", "/reset?token=abc"} {
		res, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if loc := res.Header.Get("Location"); res.StatusCode != http.StatusFound || loc != page+path || res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s%s: %d to %q (%q), want 302 to %s%s, not cached", base, path, res.StatusCode, loc, res.Header.Get("Cache-Control"), page, path)
		}
		res, err = client.Get(page + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s%s: %d", page, path, res.StatusCode)
		}
	}
	for _, u := range []string{base, page} {
		r := apitest.NewClient(t, u).Do("POST", "/auth/sign_in/passkey/options", map[string]any{})
		var opts struct {
			Token     string `json:"token"`
			PublicKey struct {
				RPID string `json:"rpId"`
			} `json:"publicKey"`
		}
		if err := json.Unmarshal(r.Body, &opts); err != nil || r.Status != 200 || opts.PublicKey.RPID != "localhost" || opts.Token == "" {
			t.Errorf("at %s: passkey options %d %s, want the RP ID localhost", u, r.Status, r.Body)
		}
	}
}

// pageURL is where a browser lands that opens base, the example's listening
// address, when no -public-url was given: the same port under localhost.
func pageURL(base string) string {
	_, page := defaultPublicURL(base)
	if page == "" {
		return base
	}
	return page
}
