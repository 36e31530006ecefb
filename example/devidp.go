// This file is -dev-idp: a stand-in Microsoft identity provider, so that
// Microsoft sign-in can be tried with no Entra registration. It is a real
// OpenID provider (internal/oidcprovider: zitadel's, with discovery, PKCE
// and UserInfo) served by the example itself under /dev-idp/, with a page
// that picks one of a few demo accounts instead of asking a password. Its
// accounts claim verified emails, so it could become any user whose email
// matches: it is refused unless the database is memory or the seed is the
// built-in demo, the server and its public URL are on loopback and no proxy
// is trusted, and it is linked to the demo tenant only.

package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/pbxauth/pbxauth/internal/oidcprovider"
	"github.com/pbxauth/pbxauth/store"
)

// devIdPPath is where the example serves the stand-in IdP: on its own
// listener, so that the issuer (and so the links of the accounts it signed
// in, which are kept per issuer) stays the same across restarts on one
// address.
const devIdPPath = "/dev-idp"

// devIdPClient is the application ID the demo tenant's ms365 names while
// linked to the stand-in; a start without -dev-idp removes settings that
// carry it.
const devIdPClient = "pbxauth-dev-idp"

// devAccount is one account of the stand-in's chooser.
type devAccount struct {
	Key, Name, Email string
	Verified         bool
	Note             string // what pbxauth does with it
}

// devAccounts claim the demo seed's emails; emails are answered at
// UserInfo only (as zitadel does for the code flow), so pbxauth reads it.
var devAccounts = []devAccount{
	{Key: "alice", Name: "Alice", Email: "alice@acme.example.test", Verified: true, Note: "becomes alice (Admin): a verified email that matches her"},
	{Key: "bob", Name: "Bob", Email: "bob@acme.example.test", Verified: true, Note: "becomes bob (StandardUser)"},
	{Key: "eve", Name: "Eve", Email: "alice@acme.example.test", Verified: false, Note: "claims alice's email without verifying it: refused (access_denied)"},
}

func (a devAccount) user() oidcprovider.User {
	return oidcprovider.User{Subject: "dev-idp-" + a.Key, Email: a.Email, EmailVerified: new(a.Verified), PreferredUsername: a.Email}
}

// checkDevIdP refuses -dev-idp where its accounts could reach real users
// or other machines (DESIGN.md, "The example server").
func checkDevIdP(o options) error {
	if !o.devIdP {
		return nil
	}
	if o.db != "memory" && o.seed != "" {
		return errors.New("-dev-idp needs -db memory or the built-in demo seed: its accounts claim verified emails and would sign in as whichever of your users has them")
	}
	if host, _, err := net.SplitHostPort(o.addr); err != nil || !loopbackHost(host) {
		return fmt.Errorf("-dev-idp needs a loopback -addr (127.0.0.1, [::1] or localhost), not %q: anyone who reaches it signs in without a password", o.addr)
	}
	if o.publicURL != "" {
		if u, err := url.Parse(o.publicURL); err != nil || !loopbackHost(u.Hostname()) {
			return fmt.Errorf("-dev-idp needs a loopback -public-url, not %q", o.publicURL)
		}
	}
	if strings.TrimSpace(o.trustedProxies) != "" {
		return errors.New("-dev-idp refuses -trusted-proxies: behind a proxy, others could reach it")
	}
	return nil
}

// loopbackHost reports whether host is localhost or a loopback address.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// devIdP links the demo tenant to a new stand-in IdP whose issuer is
// base+devIdPPath and returns the IdP's handler, to be mounted there. With
// -dev-idp off it returns nil, after removing the stand-in's settings a
// run with it left on the demo tenant (their issuer is gone).
func devIdP(ctx context.Context, on bool, st store.Store, base, publicURL string, logger *slog.Logger) (http.Handler, error) {
	demo, _, err := readSeed("")
	if err != nil {
		return nil, err
	}
	domain := demo.Tenants[0].Domain
	t, err := st.TenantByDomain(ctx, domain)
	if !on {
		if err != nil || t.MS365 == nil || t.MS365.ApplicationID != devIdPClient {
			return nil, nil // nothing of the stand-in's, or no demo tenant at all
		}
		t.MS365 = nil
		if err := st.UpdateTenant(ctx, t); err != nil {
			return nil, fmt.Errorf("removing the Microsoft settings -dev-idp left on %s: %w", domain, err)
		}
		logger.Info("removed the Microsoft settings a run with -dev-idp left on the demo tenant", "tenant", domain)
		return nil, nil
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("-dev-idp links the demo tenant %s, which the database does not have", domain)
	}
	if err != nil {
		return nil, err
	}
	if t.MS365 != nil && t.MS365.ApplicationID != devIdPClient {
		return nil, fmt.Errorf("-dev-idp: the demo tenant %s has Microsoft settings of its own, which it would replace", domain)
	}

	issuer := base + devIdPPath
	secret := rand.Text()
	p, err := oidcprovider.New(issuer, oidcprovider.Client{
		ID: devIdPClient, Secret: secret, AuthMethod: "client_secret_basic",
		RedirectURIs: []string{strings.TrimSuffix(publicURL, "/") + "/auth/sign_in/microsoft/callback"},
	})
	if err != nil {
		return nil, err
	}
	t.MS365 = &store.MS365{ApplicationID: devIdPClient, DirectoryID: "dev-idp", ClientSecret: secret, Issuer: issuer}
	if err := st.UpdateTenant(ctx, t); err != nil {
		return nil, fmt.Errorf("-dev-idp: linking %s: %w", domain, err)
	}
	logger.Warn("-dev-idp: a stand-in Microsoft identity provider for development signs in the demo tenant's users without a password",
		"issuer", issuer, "tenant", domain)

	mux := http.NewServeMux()
	mux.Handle("/", p)
	mux.Handle("GET "+oidcprovider.LoginPath, chooser())
	mux.Handle("POST "+oidcprovider.LoginPath, http.NewCrossOriginProtection().Handler(choose(p)))
	return http.StripPrefix(devIdPPath, mux), nil
}
