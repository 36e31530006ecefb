// The README's client section, runnable: each example runs against a
// pbxauth server in this process.

package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/client"
	"github.com/pbxauth/pbxauth/memstore"
)

// mailbox is the demo users' mail: the codes the server sends.
type mailbox chan string

var sixDigits = regexp.MustCompile(`\b[0-9]{6}\b`)

func (m mailbox) Send(_ context.Context, msg pbxauth.Message) error {
	m <- sixDigits.FindString(msg.Text)
	return nil
}

// demoServer serves pbxauth under /api with a host route GET
// /api/extensions, a tenant acme.example.test and its user bob, who signs
// in with a second factor by mail. It returns the API's base URL.
func demoServer() (base string, mail mailbox, stop func()) {
	ctx := context.Background()
	mail = make(mailbox, 1)
	a, err := pbxauth.New(pbxauth.Config{Store: memstore.New(), Mailer: mail, Argon2: cheap, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := a.CreateTenant(ctx, pbxauth.TenantSettings{Name: "Acme", Domain: "acme.example.test"}); err != nil {
		log.Fatal(err)
	}
	if _, err := a.CreateUser(ctx, pbxauth.NewUser{Domain: "acme.example.test", Username: "bob", Password: "bob-pw-12345",
		Email: "bob@acme.example.test", Role: pbxauth.RoleStandardUser, TwoFactorEnabled: true}); err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", http.StripPrefix("/api", a.Handler()))
	mux.Handle("GET /api/extensions", a.RequireBearer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := pbxauth.PrincipalFrom(r.Context())
		fmt.Fprintf(w, "extensions of %s", p.Username)
	})))
	srv := httptest.NewServer(mux)
	return srv.URL + "/api", mail, func() { srv.Close(); a.Close() }
}

// Sign in with a second factor, call a route of the host with the bearer
// token kept fresh, and sign out.
func Example() {
	base, mail, stop := demoServer() // base is "https://pbx.example.com:8887/api" in real life
	defer stop()
	ctx := context.Background()

	c, err := client.New(client.Config{BaseURL: base, Domain: "acme.example.test"})
	if err != nil {
		log.Fatal(err)
	}
	sf, err := c.SignIn(ctx, "bob", "bob-pw-12345")
	if err != nil {
		log.Fatal(err)
	}
	if sf != nil { // the account asks for a second factor
		factor, err := sf.SendCode(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("code sent by", factor)
		code := <-mail // the user types it in
		if err := sf.Verify(ctx, code); err != nil {
			log.Fatal(err)
		}
	}

	// Any route of the host: the bearer token goes to base's origin only,
	// refreshed before it ends (or after a 401), once for all goroutines.
	resp, err := c.HTTPClient().Get(base + "/extensions")
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(body))

	if err := c.SignOut(ctx, client.ScopeOwn); err != nil {
		log.Fatal(err)
	}
	_, err = c.User(ctx)
	fmt.Println(errors.Is(err, client.ErrSignedOut))
	// Output:
	// code sent by email
	// 200 extensions of bob
	// true
}

// A command-line tool keeps its sign-in in a file: the next run (or
// another process at the same time) starts signed in.
func ExampleFileTokens() {
	base, mail, stop := demoServer()
	defer stop()
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "pbx")
	defer os.RemoveAll(dir)
	tokens := client.FileTokens(filepath.Join(dir, "session.json"))

	first, _ := client.New(client.Config{BaseURL: base, Domain: "acme.example.test", Tokens: tokens})
	sf, err := first.SignIn(ctx, "bob", "bob-pw-12345")
	if err != nil {
		log.Fatal(err)
	}
	sf.SendCode(ctx)
	if err := sf.Verify(ctx, <-mail); err != nil {
		log.Fatal(err)
	}

	// Later, in another run: no password asked.
	next, _ := client.New(client.Config{BaseURL: base, Tokens: tokens})
	u, err := next.User(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("signed in as", u.Username, u.Role)
	// Output: signed in as bob StandardUser
}

// Errors of the API are typed: a wrong password is a 401.
func ExampleAPIError() {
	base, _, stop := demoServer()
	defer stop()
	c, _ := client.New(client.Config{BaseURL: base, Domain: "acme.example.test"})
	_, err := c.SignIn(context.Background(), "bob", "not-the-password")
	var ae *client.APIError
	if errors.As(err, &ae) {
		fmt.Println(ae.Status, ae.Code, ae.Message)
	}
	// Output: 401 UNAUTHORIZED invalid credentials
}
