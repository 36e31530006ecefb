//go:build oapiclient

package openapiclient

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/hasher"
	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/store"
)

func TestGeneratedClient(t *testing.T) {
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
	a, err := pbxauth.New(pbxauth.Config{Store: st, Argon2: cheap})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	mux := http.NewServeMux()
	mux.Handle("/api/", http.StripPrefix("/api", a.Handler()))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	c, err := NewClientWithResponses(srv.URL + "/api")
	if err != nil {
		t.Fatal(err)
	}
	domain := "acme.example.test"
	in, err := c.SignInWithCredentialsWithResponse(ctx, nil, SignInWithCredentialsJSONRequestBody{Username: "bob", Password: "bob-pw-1234", Domain: &domain})
	if err != nil || in.JSON200 == nil {
		t.Fatalf("sign_in: %v %s", err, in.Body)
	}
	pair, err := in.JSON200.AsSignInWithCredentials200JSONResponseBody1()
	if err != nil || pair.TokenType != "Bearer" || pair.AccessToken == "" {
		t.Fatalf("sign_in answer: %+v, %v", pair, err)
	}
	bad, err := c.SignInWithCredentialsWithResponse(ctx, nil, SignInWithCredentialsJSONRequestBody{Username: "bob", Password: "wrong-password", Domain: &domain})
	if err != nil || bad.StatusCode() != 401 || bad.JSON4XX == nil || len(bad.JSON4XX.Errors) != 1 || bad.JSON4XX.Errors[0].Code != "UNAUTHORIZED" {
		t.Fatalf("a wrong password: %v %d %s", err, bad.StatusCode(), bad.Body)
	}
	ref, err := c.RefreshTokenWithResponse(ctx, RefreshTokenJSONRequestBody{RefreshToken: pair.RefreshToken})
	if err != nil || ref.JSON200 == nil || ref.JSON200.AccessToken == nil || *ref.JSON200.AccessToken == pair.AccessToken {
		t.Fatalf("refresh: %v %s", err, ref.Body)
	}
	bearer := func(tok string) RequestEditorFn {
		return func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+tok)
			return nil
		}
	}
	user, err := c.GetUserAuthInfoWithResponse(ctx, bearer(*ref.JSON200.AccessToken))
	if err != nil || user.StatusCode() != 200 {
		t.Fatalf("user: %v %s", err, user.Body)
	}
	out, err := c.SignOutWithResponse(ctx, nil, bearer(*ref.JSON200.AccessToken))
	if err != nil || out.StatusCode() != 200 {
		t.Fatalf("sign_out: %v %d %s", err, out.StatusCode(), out.Body)
	}
	after, err := c.GetUserAuthInfoWithResponse(ctx, bearer(*ref.JSON200.AccessToken))
	if err != nil || after.StatusCode() != 401 {
		t.Fatalf("user after sign-out: %v %d", err, after.StatusCode())
	}
}
