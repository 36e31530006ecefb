// Microsoft sign-in against a provider that answers what the test tells it
// (internal/idpfault): redirects, failing and hanging discovery, the IdP's
// own trouble, and answers that echo the client secret back.

package pbxauth_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/idpfault"
	"github.com/pbxauth/pbxauth/store"
)

const faultClientID = "pbx-app"

// faultSecret is acme's client secret: every encoding of it differs
// (quotes, backslash, HTML characters, space, plus, slash, percent,
// non-ASCII), and its core is long enough to be found in any of them.
const faultSecret = `pbx~S3cretCore9x7Q"\<&> +/%é=`

// fEnv is an Auth whose tenant acme signs in at an idpfault provider.
type fEnv struct {
	*msEnv
	p *idpfault.Provider
}

func newFaultEnv(t *testing.T, configure ...func(*pbxauth.Config)) *fEnv {
	t.Helper()
	e := &fEnv{msEnv: newMSBase(t, configure...), p: idpfault.Start(t)}
	e.setMicrosoft(t, acmeID, &store.MS365{ApplicationID: faultClientID, ClientSecret: faultSecret, Issuer: e.p.Issuer})
	return e
}

// aliceToken is an ID token of alice's account at the provider, valid but
// for what bend changes.
func (e *fEnv) aliceToken(t *testing.T, nonce string, bend ...func(map[string]any)) string {
	t.Helper()
	now := time.Now()
	c := map[string]any{"iss": e.p.Issuer, "aud": faultClientID, "sub": "sub-alice", "oid": "oid-alice",
		"email": "alice@acme.example.test", "email_verified": true, "nonce": nonce,
		"iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
	for _, f := range bend {
		f(c)
	}
	return e.p.IDToken(t, c)
}

// back starts a token-mode sign-in, lets token answer the code exchange
// (given the start's nonce), and comes back from the IdP with a code as
// the browser would; it returns where the browser lands.
func (e *fEnv) back(t *testing.T, token func(nonce string) http.Handler) *url.URL {
	t.Helper()
	start := e.start(t).Query()
	e.p.SetToken(token(start.Get("nonce")))
	q := url.Values{"code": {"code-from-the-idp"}, "state": {start.Get("state")}}
	return location(t, e.c.Do("GET", "/auth/sign_in/microsoft/callback?"+q.Encode(), nil))
}

// elsewhere is a server that only counts what reaches it.
func elsewhere(t *testing.T) (string, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		http.Error(w, "elsewhere", http.StatusInternalServerError)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/collect", &n
}

// No call to the IdP follows a redirect: a 307 from the token endpoint
// would take the Authorization header and the form, client secret and all,
// to wherever it points.
func TestMicrosoftIdPRedirectNotFollowed(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(t *testing.T, e *fEnv, to string) func(nonce string) http.Handler
		want string // the landing's error
	}{
		{"token endpoint, client_secret_basic", func(t *testing.T, e *fEnv, to string) func(string) http.Handler {
			return func(string) http.Handler { return idpfault.Redirect(to) }
		}, "temporarily_unavailable"},
		{"token endpoint, client_secret_post", func(t *testing.T, e *fEnv, to string) func(string) http.Handler {
			e.p.SetAuthMethods("client_secret_post")
			return func(string) http.Handler { return idpfault.Redirect(to) }
		}, "temporarily_unavailable"},
		{"signing keys", func(t *testing.T, e *fEnv, to string) func(string) http.Handler {
			e.p.SetKeys(idpfault.Redirect(to))
			return func(nonce string) http.Handler { return idpfault.Tokens(e.aliceToken(t, nonce)) }
		}, "temporarily_unavailable"},
		{"UserInfo", func(t *testing.T, e *fEnv, to string) func(string) http.Handler {
			e.p.SetUserInfo(idpfault.Redirect(to))
			return func(nonce string) http.Handler {
				return idpfault.Tokens(e.aliceToken(t, nonce, func(c map[string]any) { delete(c, "email"); delete(c, "email_verified") }))
			}
		}, "temporarily_unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newFaultEnv(t)
			to, reached := elsewhere(t)
			wantRefused(t, e.back(t, tc.set(t, e, to)), tc.want)
			if n := reached.Load(); n != 0 {
				t.Errorf("the redirect was followed: %d requests reached its target", n)
			}
		})
	}
	t.Run("host's client", func(t *testing.T) {
		host := &http.Client{Timeout: 5 * time.Second} // follows redirects, as every client does by default
		e := newFaultEnv(t, func(c *pbxauth.Config) { c.HTTPClient = host })
		to, reached := elsewhere(t)
		wantRefused(t, e.back(t, func(string) http.Handler { return idpfault.Redirect(to) }), "temporarily_unavailable")
		if n := reached.Load(); n != 0 {
			t.Errorf("the redirect was followed: %d requests reached its target", n)
		}
		if host.CheckRedirect != nil {
			t.Error("the host's client was changed")
		}
	})
	t.Run("discovery", func(t *testing.T) {
		e := newFaultEnv(t)
		to, reached := elsewhere(t)
		e.p.SetDiscovery(idpfault.Redirect(to))
		if r := e.c.Do("GET", "/info?domain="+acmeDomain, nil); r.Status != 200 || r.JSON()["ms365_authorization_endpoint"] != nil {
			t.Errorf("/info: %d %s", r.Status, r.Body)
		}
		if n := reached.Load(); n != 0 {
			t.Errorf("the redirect was followed: %d requests reached its target", n)
		}
	})
}

// infoEndpoint asks GET /info for acme's authorization endpoint ("" when
// discovery failed).
func (e *fEnv) infoEndpoint(t *testing.T) string {
	t.Helper()
	r := e.c.Do("GET", "/info?domain="+acmeDomain, nil)
	if r.Status != 200 || r.String("domain") != acmeDomain {
		t.Errorf("/info: %d %s", r.Status, r.Body)
	}
	return r.String("ms365_authorization_endpoint")
}

// A failed discovery is remembered for 30 seconds: GET /info cannot make
// the PBX call out once per request.
func TestMicrosoftDiscoveryFailureRemembered(t *testing.T) {
	e := newFaultEnv(t)
	e.p.SetDiscovery(idpfault.Status(http.StatusInternalServerError, "text/plain", "down"))
	parallel(50, func(int) int {
		if ep := e.infoEndpoint(t); ep != "" {
			t.Errorf("endpoint %q while discovery fails", ep)
		}
		return 0
	})
	if n := e.p.Discoveries(); n != 1 {
		t.Fatalf("50 concurrent GET /info: %d discoveries, want 1", n)
	}
	e.p.SetDiscovery(nil) // back, but not asked yet
	e.clock.Advance(29 * time.Second)
	e.infoEndpoint(t)
	if r := e.c.Do("POST", "/auth/sign_in/microsoft", map[string]any{"domain": acmeDomain, "callback_url": msCallbackURL}); r.Status != 503 || r.Code() != "UNAVAILABLE" {
		t.Errorf("sign-in within the 30 seconds: %d %s", r.Status, r.Body)
	}
	if n := e.p.Discoveries(); n != 1 {
		t.Errorf("%d discoveries within 30 seconds, want 1", n)
	}
	e.clock.Advance(time.Second)
	if ep := e.infoEndpoint(t); ep != e.p.Issuer+"/authorize" {
		t.Errorf("endpoint %q after 30 seconds", ep)
	}
	e.infoEndpoint(t)
	if n := e.p.Discoveries(); n != 2 {
		t.Errorf("%d discoveries after 30 seconds, want 2", n)
	}
}

// The retry after 30 seconds is one request's: while it hangs, the others
// are answered at once with the failure, and call nobody.
func TestMicrosoftDiscoveryRetriedByOne(t *testing.T) {
	e := newFaultEnv(t, func(c *pbxauth.Config) { c.HTTPClient = &http.Client{Timeout: 2 * time.Second} })
	down := idpfault.Status(http.StatusServiceUnavailable, "text/plain", "down")
	e.p.SetDiscovery(down)
	e.infoEndpoint(t)
	e.clock.Advance(30 * time.Second)
	hold := idpfault.NewHold(down)
	defer hold.Release()
	e.p.SetDiscovery(hold)
	retry := make(chan string)
	go func() { retry <- e.infoEndpoint(t) }()
	<-hold.Arrived()
	for range 3 {
		if ep := e.infoEndpoint(t); ep != "" {
			t.Errorf("endpoint %q during the retry", ep)
		}
	}
	if n := e.p.Discoveries(); n != 2 {
		t.Errorf("%d discoveries, want 2: the first and the one retry", n)
	}
	hold.Release()
	<-retry
}

// The IdP's trouble is not the user's fault: a token endpoint 5xx or
// temporarily_unavailable, or signing keys that cannot be fetched, land as
// temporarily_unavailable with a WARN. A forged token is still refused as
// access_denied, and the IdP refusing the code stays at INFO.
func TestMicrosoftIdPTrouble(t *testing.T) {
	const refused = `msg="pbxauth: Microsoft sign-in refused"`
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, e *fEnv) func(nonce string) http.Handler
		want  string // the landing's error, "" for signed in
		level string // of the refusal's log line
	}{
		{"token endpoint 500", func(t *testing.T, e *fEnv) func(string) http.Handler {
			return func(string) http.Handler { return idpfault.Status(500, "text/html", "<h1>oops</h1>") }
		}, "temporarily_unavailable", "WARN"},
		{"token endpoint 502 with an OAuth error", func(t *testing.T, e *fEnv) func(string) http.Handler {
			return func(string) http.Handler { return idpfault.OAuthError(502, "invalid_grant", "upstream") }
		}, "temporarily_unavailable", "WARN"},
		{"token endpoint temporarily_unavailable", func(t *testing.T, e *fEnv) func(string) http.Handler {
			return func(string) http.Handler { return idpfault.OAuthError(400, "temporarily_unavailable", "busy") }
		}, "temporarily_unavailable", "WARN"},
		{"signing keys 503", func(t *testing.T, e *fEnv) func(string) http.Handler {
			e.p.SetKeys(idpfault.Status(503, "text/plain", "down"))
			return func(nonce string) http.Handler { return idpfault.Tokens(e.aliceToken(t, nonce)) }
		}, "temporarily_unavailable", "WARN"},
		{"signing keys unreachable", func(t *testing.T, e *fEnv) func(string) http.Handler {
			e.p.KeysUnreachable(t)
			return func(nonce string) http.Handler { return idpfault.Tokens(e.aliceToken(t, nonce)) }
		}, "temporarily_unavailable", "WARN"},
		{"code refused", func(t *testing.T, e *fEnv) func(string) http.Handler {
			return func(string) http.Handler { return idpfault.OAuthError(400, "invalid_grant", "expired code") }
		}, "access_denied", "INFO"},
		{"forged token", func(t *testing.T, e *fEnv) func(string) http.Handler {
			other := idpfault.Start(t) // signs with another key under the same key ID
			return func(nonce string) http.Handler {
				return idpfault.Tokens(other.IDToken(t, map[string]any{"iss": e.p.Issuer, "aud": faultClientID, "sub": "sub-alice",
					"nonce": nonce, "iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix()}))
			}
		}, "access_denied", "INFO"},
		{"keys served", func(t *testing.T, e *fEnv) func(string) http.Handler {
			return func(nonce string) http.Handler { return idpfault.Tokens(e.aliceToken(t, nonce)) }
		}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newFaultEnv(t)
			land := e.back(t, tc.setup(t, e))
			if tc.want == "" {
				e.exchange(t, land)
				return
			}
			wantRefused(t, land, tc.want)
			if line := logLine(e.logs.String(), refused); !strings.Contains(line, "level="+tc.level) {
				t.Errorf("logged %q, want level %s", line, tc.level)
			}
		})
	}
}

// logLine is the first line of log that contains sub.
func logLine(log, sub string) string {
	for line := range strings.Lines(log) {
		if strings.Contains(line, sub) {
			return line
		}
	}
	return ""
}

// secretForms are the forms acme's client secret could take in a log or an
// event: as is (and its core, which every form but base64 keeps),
// form-encoded, path-escaped, JSON-escaped, Go-quoted, and the base64 of a
// basic Authorization header, whose parts RFC 6749 §2.3.1 form-encodes
// first.
func secretForms() map[string]string {
	js, _ := json.Marshal(faultSecret)
	var plain strings.Builder
	enc := json.NewEncoder(&plain)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(faultSecret)
	basic := faultClientID + ":" + faultSecret
	encoded := url.QueryEscape(faultClientID) + ":" + url.QueryEscape(faultSecret)
	return map[string]string{
		"raw":                            faultSecret,
		"core":                           "S3cretCore9x7Q",
		"url.QueryEscape":                url.QueryEscape(faultSecret),
		"url.PathEscape":                 url.PathEscape(faultSecret),
		"JSON-escaped":                   strings.Trim(string(js), `"`),
		"JSON-escaped without HTML":      strings.Trim(strings.TrimSpace(plain.String()), `"`),
		"Go-quoted":                      strings.Trim(strconv.Quote(faultSecret), `"`),
		"base64 of id:secret":            base64.StdEncoding.EncodeToString([]byte(basic)),
		"base64url of id:secret":         base64.RawURLEncoding.EncodeToString([]byte(basic)),
		"base64 of encoded id:secret":    base64.StdEncoding.EncodeToString([]byte(encoded)),
		"base64url of encoded id:secret": base64.RawURLEncoding.EncodeToString([]byte(encoded)),
	}
}

// An IdP that echoes the request (headers and form) in its answers gets
// none of it into the logs or events in any form: an OAuth error is logged
// as its code and at most 200 characters of its description, with the
// secret removed; any other answer body is never logged; events carry the
// error code only.
func TestMicrosoftIdPEchoKeepsSecret(t *testing.T) {
	says := map[string]func(idpfault.Request) string{
		"the request":              func(r idpfault.Request) string { return r.Dump },
		"the Authorization header": func(r idpfault.Request) string { return r.Authorization },
		"the secret":               func(r idpfault.Request) string { return r.Secret },
		"form-encoded":             func(r idpfault.Request) string { return url.QueryEscape(r.Secret) },
		"path-escaped":             func(r idpfault.Request) string { return url.PathEscape(r.Secret) },
		"JSON-escaped": func(r idpfault.Request) string {
			js, _ := json.Marshal(r.Secret)
			return string(js)
		},
		"Go-quoted": func(r idpfault.Request) string { return strconv.Quote(r.Secret) },
		"long":      func(r idpfault.Request) string { return strings.Repeat("y", 500) },
	}
	var logs, evs strings.Builder
	for _, method := range []string{"client_secret_basic", "client_secret_post"} {
		e := newFaultEnv(t, func(c *pbxauth.Config) { c.Limits.FlowStarts = 100 })
		e.p.SetAuthMethods(method)
		for name, say := range says {
			for _, tc := range []struct {
				status int
				oauth  bool
				prefix string // what the IdP writes before the echo
				want   string
			}{
				{400, true, "echo: ", "access_denied"},
				{400, false, "page: ", "access_denied"},
				{500, false, "page: ", "temporarily_unavailable"},
			} {
				echo := idpfault.Echo(tc.status, tc.oauth, func(r idpfault.Request) string { return tc.prefix + say(r) })
				land := e.back(t, func(string) http.Handler { return echo })
				if q := land.Query(); q.Get("error") != tc.want || q.Has("token") {
					t.Errorf("%s, echo of %s, %d: landed on %s, want error=%s", method, name, tc.status, land, tc.want)
				}
			}
		}
		logs.WriteString(e.logs.String())
		for _, ev := range e.events.list {
			fmt.Fprintf(&evs, "%+v\n", ev)
		}
	}
	for name, form := range secretForms() {
		if strings.Contains(logs.String(), form) {
			t.Errorf("the log has the secret %s: %q", name, form)
		}
		if strings.Contains(evs.String(), form) {
			t.Errorf("an event has the secret %s: %q", name, form)
		}
	}
	if strings.Contains(logs.String(), "page:") || strings.Contains(evs.String(), "page:") {
		t.Error("a body that is no OAuth error was logged or reported")
	}
	if strings.Contains(evs.String(), "echo:") {
		t.Error("an error_description reached an event")
	}
	// The description is logged, without the secret, and cut.
	if !strings.Contains(logs.String(), "echo: [client secret]") || !strings.Contains(logs.String(), "echo: "+strings.Repeat("y", 194)) {
		t.Error("the error_description was not logged")
	}
	if strings.Contains(logs.String(), strings.Repeat("y", 195)) {
		t.Error("more than 200 characters of error_description were logged")
	}
}
