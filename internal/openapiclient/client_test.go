//go:build oapiclient

package openapiclient

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/hasher"
	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/store"
)

func TestGeneratedClient(t *testing.T) {
	ctx := context.Background()
	c, err := NewClientWithResponses(serve(t) + "/api")
	if err != nil {
		t.Fatal(err)
	}
	domain := "acme.example.test"
	in, err := c.SignInWithCredentialsWithResponse(ctx, nil, SignInWithCredentialsJSONRequestBody{Username: "bob", Password: "bob-pw-1234", Domain: &domain})
	if err != nil || in.JSON200 == nil {
		t.Fatalf("sign_in: %v %s", err, in.Body)
	}
	pair, err := in.JSON200.AsTokenPair()
	if err != nil || pair.TokenType != "Bearer" || pair.AccessToken == "" {
		t.Fatalf("sign_in answer: %+v, %v", pair, err)
	}
	bad, err := c.SignInWithCredentialsWithResponse(ctx, nil, SignInWithCredentialsJSONRequestBody{Username: "bob", Password: "wrong-password", Domain: &domain})
	if err != nil || bad.StatusCode() != 401 || bad.JSON4XX == nil || len(bad.JSON4XX.Errors) != 1 || bad.JSON4XX.Errors[0].Code != "UNAUTHORIZED" {
		t.Fatalf("a wrong password: %v %d %s", err, bad.StatusCode(), bad.Body)
	}
	ref, err := c.RefreshTokenWithResponse(ctx, RefreshTokenJSONRequestBody{RefreshToken: pair.RefreshToken})
	if err != nil || ref.JSON200 == nil || ref.JSON200.AccessToken == pair.AccessToken || ref.JSON200.RefreshToken == "" {
		t.Fatalf("refresh: %v %s", err, ref.Body)
	}
	access := ref.JSON200.AccessToken
	bearer := func(tok string) RequestEditorFn {
		return func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+tok)
			return nil
		}
	}
	user, err := c.GetUserAuthInfoWithResponse(ctx, bearer(access))
	if err != nil || user.JSON200 == nil || user.JSON200.Role != "StandardUser" || !user.JSON200.PasswordVerified {
		t.Fatalf("user: %v %s", err, user.Body)
	}
	out, err := c.SignOutWithResponse(ctx, nil, bearer(access))
	if err != nil || out.StatusCode() != 200 {
		t.Fatalf("sign_out: %v %d %s", err, out.StatusCode(), out.Body)
	}
	after, err := c.GetUserAuthInfoWithResponse(ctx, bearer(access))
	if err != nil || after.StatusCode() != 401 {
		t.Fatalf("user after sign-out: %v %d", err, after.StatusCode())
	}
}

// serve starts pbxauth under /api with the user bob of tenant Acme and
// returns the server's URL.
func serve(t *testing.T) string {
	ctx := context.Background()
	st := memstore.New()
	cheap := pbxauth.Argon2Params{Memory: 64, Time: 1, Threads: 1}
	hash := hasher.Hash("bob-pw-1234", hasher.Params(cheap))
	if err := st.CreateTenant(ctx, store.Tenant{ID: "t1", Name: "Acme", Domain: "acme.example.test"}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateUser(ctx, store.User{ID: "u1", TenantID: "t1", Username: "bob", Role: "StandardUser", PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	a, err := pbxauth.New(pbxauth.Config{Store: st, Argon2: cheap, InsecureCookies: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	mux := http.NewServeMux()
	mux.Handle("/api/", http.StripPrefix("/api", a.Handler()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestGeneratedClientCookieLogin: POST /login and GET /login through the
// generated client, with a cookie jar.
func TestGeneratedClientCookieLogin(t *testing.T) {
	ctx := context.Background()
	jar, _ := cookiejar.New(nil)
	c, err := NewClientWithResponses(serve(t)+"/api", WithHTTPClient(&http.Client{Jar: jar}))
	if err != nil {
		t.Fatal(err)
	}
	domain := "acme.example.test"
	in, err := c.LoginWithResponse(ctx, LoginJSONRequestBody{Username: "bob", Password: "bob-pw-1234", Domain: &domain})
	if err != nil || in.JSON200 == nil {
		t.Fatalf("login: %v %s", err, in.Body)
	}
	first, err := in.JSON200.AsLoginStatus()
	if err != nil || first.AccessToken == "" || first.Role != "StandardUser" {
		t.Fatalf("login answer: %+v, %v", first, err)
	}
	status, err := c.GetLoginStatusWithResponse(ctx)
	if err != nil || status.JSON200 == nil || status.JSON200.AccessToken != first.AccessToken || status.JSON200.ExpiresAt.IsZero() {
		t.Fatalf("login status: %v %s", err, status.Body)
	}
}

// The generator makes a required member a value and an optional one a
// pointer: these assignments compile only while the document lists as
// required the members the server always sends. (LoginStatus.ExpiresIn,
// required too, stays a pointer: the seed spec marks it readOnly, and
// oapi-codegen makes a required readOnly member one unless told
// disable-required-readonly-as-pointer.)
var _ = func(p TokenPair, c SecondFactorChallenge, l LoginStatus) {
	values := func(...string) {}
	values(p.AccessToken, p.RefreshToken, p.TokenType, c.Token, l.AccessToken, l.Role)
	func(int, bool, time.Time) {}(p.ExpiresIn, c.TwoFactorEnabled, l.ExpiresAt)
}
