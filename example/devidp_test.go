package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth/internal/apitest"
)

// msStart is what a client sends to POST /auth/sign_in/microsoft.
type msStart struct {
	Domain        string `json:"domain"`
	CallbackURL   string `json:"callback_url"`
	CodeChallenge string `json:"code_challenge,omitempty"`
}

// redirect sends a request outside the API and returns its Location,
// failing the test unless the answer is a redirect.
func redirect(t *testing.T, c *apitest.Client, method, target string, form url.Values) string {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	r := c.Send(req)
	loc := r.Header.Get("Location")
	if r.Status/100 != 3 || loc == "" {
		t.Fatalf("%s %s → %d %s, want a redirect", method, target, r.Status, r.Body)
	}
	u, err := req.URL.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return u.String()
}

// devIdPSignIn signs in with Microsoft in the token flow through the
// stand-in, choosing account at its page, and returns where the browser
// lands (on the example's own origin, which it allows as a callback).
func devIdPSignIn(t *testing.T, c *apitest.Client, account, challenge string) *url.URL {
	t.Helper()
	start := c.Do("POST", "/auth/sign_in/microsoft", msStart{Domain: "acme.example.test", CallbackURL: c.URL + "/signed-in", CodeChallenge: challenge})
	if start.Status != 200 {
		t.Fatalf("sign_in/microsoft: %d %s", start.Status, start.Body)
	}
	if authorize := start.String("url"); !strings.HasPrefix(authorize, c.URL+devIdPPath+"/authorize?") {
		t.Fatalf("the IdP is %s, want the stand-in at %s", authorize, c.URL+devIdPPath)
	}
	chooser := redirect(t, c, "GET", start.String("url"), nil)
	page, err := url.Parse(chooser)
	if err != nil {
		t.Fatal(err)
	}
	choice := url.Values{"id": {page.Query().Get("id")}, "account": {account}}
	page.RawQuery = ""
	next := redirect(t, c, "POST", page.String(), choice)
	callback := redirect(t, c, "GET", next, nil)
	landing, err := url.Parse(redirect(t, c, "GET", callback, nil))
	if err != nil {
		t.Fatal(err)
	}
	return landing
}

// TestDevIdPSignsInDemoUsers: with -dev-idp, the demo tenant offers
// Microsoft sign-in through the stand-in, whose verified accounts become
// the demo users, with the exchange bound to a code_challenge; an account
// that claims alice's email without verifying it is refused.
func TestDevIdPSignsInDemoUsers(t *testing.T) {
	base := startExample(t, nil, "-dev-idp")
	c := apitest.NewClient(t, base)
	if info := c.Do("GET", "/info?domain=acme.example.test", nil); info.JSON()["enable_ms365_integration"] != true ||
		info.String("ms365_authorization_endpoint") != base+devIdPPath+"/authorize" {
		t.Fatalf("/info: %s", info.Body)
	}
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-devidp"
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])

	for _, who := range []struct{ account, username, role string }{{"alice", "alice", "Admin"}, {"bob", "bob", "StandardUser"}} {
		landing := devIdPSignIn(t, c, who.account, challenge)
		flow := landing.Query().Get("token")
		if landing.Path != "/signed-in" || flow == "" {
			t.Fatalf("%s landed at %s", who.account, landing)
		}
		if r := c.Do("POST", "/auth/sign_in/microsoft/token", map[string]string{"token": flow}); r.Status != 401 {
			t.Errorf("%s: the exchange without the verifier answered %d %s", who.account, r.Status, r.Body)
		}
		flow = devIdPSignIn(t, c, who.account, challenge).Query().Get("token")
		pair := c.Do("POST", "/auth/sign_in/microsoft/token", map[string]string{"token": flow, "code_verifier": verifier})
		if pair.Status != 200 {
			t.Fatalf("%s: exchange %d %s", who.account, pair.Status, pair.Body)
		}
		u := c.Do("GET", "/auth/user", nil, apitest.Bearer(pair.String("access_token"))...).JSON()
		if u["username"] != who.username || u["role"] != who.role || u["password_verified"] != false {
			t.Errorf("%s signed in as %v", who.account, u)
		}
	}

	if landing := devIdPSignIn(t, c, "eve", ""); landing.Query().Get("error") != "access_denied" || landing.Query().Has("token") {
		t.Errorf("eve (alice's email, unverified) landed at %s, want error=access_denied", landing)
	}
}

// TestDevIdPChooser: the stand-in's page says what it is, allows itself no
// script, and takes a choice only from its own origin, for a sign-in in
// progress, of one of its accounts.
func TestDevIdPChooser(t *testing.T) {
	base := startExample(t, nil, "-dev-idp")
	c := apitest.NewClient(t, base)
	start := c.Do("POST", "/auth/sign_in/microsoft", msStart{Domain: "acme.example.test", CallbackURL: base + "/signed-in"})
	chooser := redirect(t, c, "GET", start.String("url"), nil)
	page := c.Send(mustRequest(t, "GET", chooser, nil))
	if page.Status != 200 || !strings.Contains(string(page.Body), "this is not Microsoft") || !strings.Contains(string(page.Body), "-dev-idp") {
		t.Errorf("the page does not say it is a development stand-in: %d %s", page.Status, page.Body)
	}
	if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("CSP %q", csp)
	}
	id := strings.TrimPrefix(chooser[strings.Index(chooser, "?"):], "?id=")
	login := base + devIdPPath + "/login"

	for _, tc := range []struct {
		name    string
		form    url.Values
		headers []string
		status  int
	}{
		{"cross-origin", url.Values{"id": {id}, "account": {"alice"}}, []string{"Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site"}, 403},
		{"unknown account", url.Values{"id": {id}, "account": {"mallory"}}, nil, 400},
		{"unknown sign-in", url.Values{"id": {"NOSUCHREQUEST"}, "account": {"alice"}}, nil, 400},
	} {
		req := mustRequest(t, "POST", login, strings.NewReader(tc.form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for i := 0; i+1 < len(tc.headers); i += 2 {
			req.Header.Set(tc.headers[i], tc.headers[i+1])
		}
		if r := c.Send(req); r.Status != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, r.Status, r.Body, tc.status)
		}
	}
	if r := c.Send(mustRequest(t, "GET", login, nil)); r.Status != 400 {
		t.Errorf("the page without a sign-in: %d", r.Status)
	}
	// None of the refusals spent the sign-in: alice can still be chosen.
	if next := redirect(t, c, "POST", login, url.Values{"id": {id}, "account": {"alice"}}); !strings.HasPrefix(next, base+devIdPPath+"/authorize/callback?") {
		t.Errorf("choosing alice went to %s", next)
	}
}

func mustRequest(t *testing.T, method, target string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// refusalWait bounds a start that should have been refused: a refusal comes
// before the server listens, so this only ends a failing test.
const refusalWait = 20 * time.Second

// TestDevIdPRefused: -dev-idp starts nothing where its accounts could
// become real users or be reached from elsewhere (DESIGN.md).
func TestDevIdPRefused(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-db", "sqlite:" + filepath.Join(t.TempDir(), "x.db"), "-seed", "seed.json"}, "-db memory or the built-in demo seed"},
		{[]string{"-db", "memory", "-addr", "0.0.0.0:0"}, "loopback -addr"},
		{[]string{"-db", "memory", "-addr", ":0"}, "loopback -addr"},
		{[]string{"-db", "memory", "-addr", "192.0.2.1:0"}, "loopback -addr"},
		{[]string{"-db", "memory", "-public-url", "https://pbx.example.com/api"}, "loopback -public-url"},
		{[]string{"-db", "memory", "-trusted-proxies", "10.0.0.0/8"}, "refuses -trusted-proxies"},
	} {
		o, err := parseFlags(append([]string{"-dev-idp"}, tc.args...), func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		if err := checkDevIdP(o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error saying %q", tc.args, err, tc.want)
		}
	}
	for _, args := range [][]string{
		{"-db", "memory"},
		{"-db", "sqlite:pbxauth.db"},
		{"-db", "memory", "-seed", "seed.json"},
		{"-addr", "[::1]:8887", "-public-url", "http://localhost:8887/api"},
		{"-addr", "localhost:0"},
	} {
		o, err := parseFlags(append([]string{"-dev-idp"}, args...), func(string) string { return "" })
		if err != nil || checkDevIdP(o) != nil {
			t.Errorf("%v: %v %v, want it allowed", args, err, checkDevIdP(o))
		}
	}
	if o, _ := parseFlags([]string{"-db", "memory", "-addr", "0.0.0.0:0"}, func(k string) string {
		return map[string]string{"PBXAUTH_DEV_IDP": "true"}[k]
	}); checkDevIdP(o) == nil {
		t.Error("PBXAUTH_DEV_IDP=true is not read")
	}

	// A seed whose demo tenant has settings of its own, or no demo tenant.
	dir := t.TempDir()
	for name, seed := range map[string]string{
		"own settings": `{"tenants": [{"name": "Acme", "domain": "acme.example.test",
		  "ms365": {"application_id": "real-app", "directory_id": "real-dir", "client_secret": "s"}}]}`,
		"no demo tenant": `{"tenants": [{"name": "Other", "domain": "other.example.test"}]}`,
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".json")
		if err := os.WriteFile(path, []byte(seed), 0o600); err != nil {
			t.Fatal(err)
		}
		// A start that is not refused serves until the context ends.
		ctx, cancel := context.WithTimeout(context.Background(), refusalWait)
		err := run(ctx, []string{"-addr", "127.0.0.1:0", "-db", "memory", "-seed", path, "-dev-idp"},
			func(string) string { return "" }, io.Discard)
		cancel()
		if err == nil || !strings.Contains(err.Error(), "demo tenant acme.example.test") {
			t.Errorf("%s: %v, want a refusal naming the demo tenant", name, err)
		}
	}

	// The program itself says why and exits 1.
	ctx, cancel := context.WithTimeout(context.Background(), refusalWait)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-dev-idp", "-db", "memory", "-addr", "0.0.0.0:0")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.CombinedOutput()
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 1 || !strings.Contains(string(out), "-dev-idp needs a loopback -addr") {
		t.Errorf("exit %v (%v): %s", cmd.ProcessState, err, out)
	}
}

// TestDevIdPAcrossRestarts: on a database kept across runs, the stand-in
// keeps its issuer, so alice's link still holds after a restart; a start
// without -dev-idp removes the stand-in's settings from the demo tenant.
func TestDevIdPAcrossRestarts(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "pbxauth.db")
	port := freePort(t)
	for i := range 2 {
		ex := startChild(t, port, "-db", db, "-dev-idp")
		c := apitest.NewClient(t, ex.url)
		if landing := devIdPSignIn(t, c, "alice", ""); !landing.Query().Has("token") {
			t.Fatalf("run %d: alice landed at %s", i+1, landing)
		}
		if code := ex.stop(t, syscall.SIGTERM); code != 0 {
			t.Fatalf("run %d: exit %d", i+1, code)
		}
	}
	ex := startChild(t, port, "-db", db)
	c := apitest.NewClient(t, ex.url)
	if info := c.Do("GET", "/info?domain=acme.example.test", nil); info.JSON()["enable_ms365_integration"] != false {
		t.Errorf("without -dev-idp, /info: %s", info.Body)
	}
	ex.waitLog(t, "removed the Microsoft settings a run with -dev-idp left", 1)
	if r := c.Send(mustRequest(t, "GET", ex.url+devIdPPath+"/.well-known/openid-configuration", nil)); r.Status == 200 {
		t.Errorf("without -dev-idp, the stand-in still answers discovery")
	}
}

// TestDevAccountsMatchDemoSeed: the stand-in's verified accounts are the
// demo tenant's users, so each of them signs someone in.
func TestDevAccountsMatchDemoSeed(t *testing.T) {
	demo, _, err := readSeed("")
	if err != nil {
		t.Fatal(err)
	}
	var emails []string
	for _, u := range demo.Users {
		if u.Domain == demo.Tenants[0].Domain {
			emails = append(emails, u.Email)
		}
	}
	for _, a := range devAccounts {
		if !slices.Contains(emails, a.Email) {
			t.Errorf("account %s claims %s, no demo user's email", a.Key, a.Email)
		}
	}
}

// TestExampleLinksNoTestTooling: the example program (not its tests)
// compiles neither package testing nor the repository's test helpers, now
// that it serves an OpenID provider.
func TestExampleLinksNoTestTooling(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "testing" || pkg == "net/http/httptest" || strings.HasPrefix(pkg, "github.com/pbxauth/pbxauth/internal/oidctest") ||
			strings.HasPrefix(pkg, "github.com/pbxauth/pbxauth/internal/apitest") {
			t.Errorf("the example compiles %s", pkg)
		}
	}
}
