// The authorization response as a hostile provider, or whoever holds the
// browser, may shape it: RFC 9207's iss parameter missing where discovery
// promised it or naming another issuer, a HEAD that would spend the state,
// a code too large to pass on. Each is refused before the code reaches the
// token endpoint, which the provider proves by its record of requests.

package pbxauth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/internal/oidctest"
)

// wantNoTokenRequest checks that the code went nowhere.
func (e *zEnv) wantNoTokenRequest(t *testing.T) {
	t.Helper()
	if r := e.p.TokenRequests(); len(r) != 0 {
		t.Errorf("%d token requests, want none: %+v", len(r), r)
	}
}

func TestMicrosoftIssParameter(t *testing.T) {
	issuer := func(p *oidctest.Provider) string { return p.Issuer }
	none := func(*oidctest.Provider) string { return "" }
	another := func(*oidctest.Provider) string { return "https://login.microsoftonline.com/another-directory/v2.0" }
	slashed := func(p *oidctest.Provider) string { return p.Issuer + "/" }
	for _, tc := range []struct {
		name       string
		advertised bool
		iss        func(*oidctest.Provider) string
		signIn     bool
	}{
		{"advertised and sent", true, issuer, true},
		{"advertised and missing", true, none, false},
		{"advertised, another issuer", true, another, false},
		{"advertised, the issuer with a slash", true, slashed, false},
		{"not advertised, another issuer", false, another, false},
		{"not advertised, sent", false, issuer, true},
		{"not advertised, missing", false, none, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newZitadelEnv(t, oidctest.Options{IssParameterSupported: tc.advertised}, "client_secret_basic")
			e.p.SetIssParameter(tc.iss(e.p))
			land := e.signInAs(t, aliceAt())
			if tc.signIn {
				e.exchange(t, land)
				return
			}
			wantRefused(t, land, "access_denied")
			e.wantNoTokenRequest(t)
			e.wantRefusedBecause(t, "iss")
		})
	}
	t.Run("sent twice", func(t *testing.T) {
		e := newZitadelEnv(t, oidctest.Options{IssParameterSupported: true}, "client_secret_basic")
		e.p.SetIssParameter(e.p.Issuer)
		cb := e.authorize(t, aliceAt())
		cb.RawQuery += "&iss=" + url.QueryEscape("https://login.microsoftonline.com/another-directory/v2.0")
		wantRefused(t, location(t, e.get(t, cb.String())), "access_denied")
		e.wantNoTokenRequest(t)
	})
}

// The callback is GET only: a HEAD (a link preview, a prefetch) would run
// the sign-in and spend the state, wherever the host mounts the callback.
func TestMicrosoftCallbackGetOnly(t *testing.T) {
	t.Run("API", func(t *testing.T) { testMicrosoftCallbackGetOnly(t, false) })
	t.Run("host's mount", func(t *testing.T) { testMicrosoftCallbackGetOnly(t, true) })
}

func testMicrosoftCallbackGetOnly(t *testing.T, hostMount bool) {
	e := newZitadelEnv(t, oidctest.Options{}, "client_secret_basic", func(c *pbxauth.Config) {
		if hostMount {
			c.MicrosoftRedirectURL = strings.TrimSuffix(c.PublicURL, apitest.Prefix) + "/ms365/callback"
		}
	})
	if hostMount {
		mux := http.NewServeMux()
		mux.Handle("GET /ms365/callback", e.auth.MicrosoftCallback())
		e.host.h.Store(http.HandlerFunc(mux.ServeHTTP))
	}
	cb := e.authorize(t, aliceAt())
	methods := []string{"HEAD", "POST"}
	if hostMount {
		methods = methods[:1] // the host's own mux answers the rest
	}
	for _, method := range methods {
		req, err := http.NewRequest(method, cb.String(), nil)
		if err != nil {
			t.Fatal(err)
		}
		r := e.c.Send(req)
		if r.Status != http.StatusMethodNotAllowed || r.Header.Get("Allow") != "GET" || r.Header.Get("Location") != "" {
			t.Errorf("%s callback: %d Allow %q Location %q", method, r.Status, r.Header.Get("Allow"), r.Header.Get("Location"))
		}
	}
	e.wantNoTokenRequest(t)
	e.exchange(t, location(t, e.get(t, cb.String()))) // the state is unspent
}

// A code over 4 KiB is a JSON 400 that spends nothing and sends nothing; one
// of 4 KiB goes to the provider, which refuses it.
func TestMicrosoftCodeSize(t *testing.T) {
	e := newZitadelEnv(t, oidctest.Options{}, "client_secret_basic")
	cb := e.authorize(t, aliceAt())
	withCode := func(code string) string {
		u := *cb
		q := u.Query()
		q.Set("code", code)
		u.RawQuery = q.Encode()
		return u.String()
	}
	for _, code := range []string{strings.Repeat("c", 4097), strings.Repeat("c", 60000)} {
		r := e.get(t, withCode(code))
		if r.Status != 400 || r.Code() != "INVALID_ARGUMENT" || r.Header.Get("Location") != "" {
			t.Errorf("code of %d bytes: %d %v %s", len(code), r.Status, r.Header, r.Body)
		}
	}
	e.wantNoTokenRequest(t)
	e.exchange(t, location(t, e.get(t, cb.String()))) // the state is unspent

	cb = e.authorize(t, aliceAt())
	wantRefused(t, location(t, e.get(t, withCode(strings.Repeat("c", 4096)))), "access_denied")
	if r := e.p.TokenRequests(); len(r) != 2 || r[1].Status == 200 {
		t.Errorf("token requests %+v, want a second, refused", r)
	}
}
