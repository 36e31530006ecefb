package pbxauth

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/store"
)

// TestCompleteSignInStartsSession covers what verify_otp does when it
// completes a flow started by POST /login: the session cookie and the token
// pair in one answer, and only for same-origin requests.
func TestCompleteSignInStartsSession(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	u := store.User{ID: "u1", Username: "bob", Role: "StandardUser"}
	if err := st.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	a, err := New(Config{Store: st, Argon2: Argon2Params{Memory: 64, Time: 1, Threads: 1}, InsecureCookies: true})
	if err != nil {
		t.Fatal(err)
	}
	complete := func(header ...string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("POST", "/auth/verify_otp", nil)
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		if e := a.completeSignIn(w, r, signIn{user: u, method: "password", passwordVerified: true}, flowCookie); e != nil {
			writeError(w, e)
		}
		return w
	}

	w := complete("Sec-Fetch-Site", "same-origin")
	var pair tokenPair
	if err := json.Unmarshal(w.Body.Bytes(), &pair); err != nil || w.Code != 200 || pair.RefreshToken == "" || pair.AccessToken == "" {
		t.Fatalf("completeSignIn: %d %s", w.Code, w.Body)
	}
	// The session cookie, and the device cookie of a sign-in that proved
	// the password.
	cookie := w.Result().Cookies()
	if len(cookie) != 2 || cookie[0].Name != SessionCookieName || cookie[1].Name != DeviceCookieName || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("cookies %v, headers %v", cookie, w.Header())
	}
	get := httptest.NewRequest("GET", "/login", nil)
	get.AddCookie(cookie[0])
	g := httptest.NewRecorder()
	a.Handler().ServeHTTP(g, get)
	if g.Code != 200 || !strings.Contains(g.Body.String(), pair.AccessToken) {
		t.Fatalf("GET /login: %d %s", g.Code, g.Body)
	}

	w = complete("Sec-Fetch-Site", "cross-site")
	if w.Code != 403 || len(w.Result().Cookies()) != 0 || strings.Contains(w.Body.String(), "token") {
		t.Fatalf("cross-site completion: %d %s %v", w.Code, w.Body, w.Result().Cookies())
	}
	// The sign-in issued before the refusal was revoked: the user has one live family only.
	fams, err := st.Families(ctx, u.ID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if live := len(fams); live != 1 {
		t.Errorf("%d live sign-ins, want 1", len(fams))
	}
}
