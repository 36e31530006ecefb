package main

import (
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
