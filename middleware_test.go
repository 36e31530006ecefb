package pbxauth_test

import (
	"context"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/store"
)

type hostKey struct{}

// RequireBearer hands next a context that carries the principal and still
// everything of the request's own context: its values and its cancellation.
func TestRequireBearerKeepsTheRequestContext(t *testing.T) {
	e := newEnv(t)
	access, _ := e.signIn(t, aliceCreds())
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), hostKey{}, "host"))
	defer cancel()
	ran := false
	h := e.auth.RequireBearer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ran = true
		ctx := r.Context()
		p, ok := pbxauth.PrincipalFrom(ctx)
		if !ok || p.UserID != aliceID || p.TenantID != acmeID || p.Username != "alice" || p.Role != "Admin" ||
			!p.PasswordVerified || p.Method != "password" || p.FamilyID == "" {
			t.Errorf("principal = %+v, %v", p, ok)
		}
		if q, _ := pbxauth.PrincipalFrom(ctx); q != p {
			t.Error("PrincipalFrom gives a different *Principal each time")
		}
		if v := ctx.Value(hostKey{}); v != "host" {
			t.Errorf("host value = %v", v)
		}
		child, stop := context.WithCancel(ctx)
		defer stop()
		cancel()
		<-child.Done()
	}))
	r := httptest.NewRequestWithContext(ctx, "GET", "/extensions", nil)
	r.Header.Set("Authorization", "Bearer "+access)
	h.ServeHTTP(httptest.NewRecorder(), r)
	if !ran {
		t.Fatal("the handler did not run")
	}
	if _, ok := pbxauth.PrincipalFrom(r.Context()); ok {
		t.Error("the caller's request was changed")
	}
}

func TestHashTokenIsSHA256(t *testing.T) {
	for _, tok := range []string{"", "abc", "Vq3k_9xO8nE2bq7R0Cj5mY1sT4uW6zA8dF0gH2jK4lM"} {
		if got, want := store.HashToken(tok), store.Hash(sha256.Sum256([]byte(tok))); got != want {
			t.Errorf("HashToken(%q) = %x, want %x", tok, got, want)
		}
	}
}
