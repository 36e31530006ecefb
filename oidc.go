// This file finds a tenant's Microsoft Entra ID provider: the issuer its
// settings name, OIDC discovery through the host's HTTP client, and a cache
// of discovered providers so that a sign-in does not cost a discovery
// round trip.

package pbxauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/pbxauth/pbxauth/internal/clientassert"
	"github.com/pbxauth/pbxauth/store"
)

// providerTTL bounds how long a discovered provider is trusted before it is
// discovered again (its signing keys are refreshed by go-oidc on their own
// whenever a token names an unknown key).
const providerTTL = time.Hour

// msScopes are the scopes of every Microsoft sign-in.
var msScopes = []string{oidc.ScopeOpenID, "profile", "email"}

// microsoftCallbackPath is where the IdP returns, below PublicURL.
const microsoftCallbackPath = "/auth/sign_in/microsoft/callback"

// msConfigured reports whether m has what a sign-in needs: a client and a
// directory (or an explicit issuer) in a known national cloud.
func msConfigured(m *store.MS365) bool {
	if m == nil || m.ApplicationID == "" {
		return false
	}
	if m.Issuer != "" {
		return true
	}
	_, _, ok := m.Endpoints()
	return ok && m.DirectoryID != ""
}

var errNotConfigured = errors.New("pbxauth: tenant has no usable Microsoft settings")

// providerCache keeps discovered providers by discovery URL and issuer,
// and failed discoveries for discoveryRetry: until then every sign-in and
// GET /info of that directory gets the failure without calling out, and
// then one request at a time tries again. The zero value is ready to use.
type providerCache struct {
	mu sync.Mutex
	m  map[[2]string]*providerEntry
}

// providerEntry is what is known of one directory's discovery.
type providerEntry struct {
	p   *msProvider // the discovered provider, or nil
	err error       // the last discovery's failure, or nil
	// until is when p goes stale, or err is forgotten.
	until time.Time
	// running is closed when the discovery under way ends; nil when none is.
	running chan struct{}
}

// discoveryRetry is how long a failed discovery is remembered.
const discoveryRetry = 30 * time.Second

// discoveryTimeout bounds a discovery, which runs apart from the request
// that started it: that request giving up must not fail it for everyone.
const discoveryTimeout = 10 * time.Second

// msProvider is a discovered provider and what its discovery document says
// of client authentication.
type msProvider struct {
	*oidc.Provider
	// authMethods is token_endpoint_auth_methods_supported, as listed.
	authMethods []string
	// keys watches the client that fetches the signing keys.
	keys *idpWatch
	// issParameter: authorization_response_iss_parameter_supported (RFC 9207).
	issParameter bool
}

// provider returns the tenant's discovered OIDC provider. One request at a
// time discovers a directory; the others wait for it, unless a failure is
// remembered, which they get at once.
func (a *Auth) provider(ctx context.Context, m *store.MS365) (*msProvider, error) {
	if !msConfigured(m) {
		return nil, errNotConfigured
	}
	discovery, issuer, _ := m.Endpoints()
	key := [2]string{discovery, issuer}
	c := &a.providers
	for {
		now := a.now()
		c.mu.Lock()
		e := c.entry(key, now)
		switch {
		case e.p != nil && now.Before(e.until):
			c.mu.Unlock()
			return e.p, nil
		case e.err != nil && (now.Before(e.until) || e.running != nil):
			c.mu.Unlock()
			return nil, e.err
		case e.running != nil:
			running := e.running
			c.mu.Unlock()
			select {
			case <-running:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		e.running = make(chan struct{})
		c.mu.Unlock()

		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), discoveryTimeout)
		p, err := a.discover(dctx, discovery, issuer)
		cancel()
		c.mu.Lock()
		e.p, e.err, e.until = p, err, a.now().Add(providerTTL)
		if err != nil {
			e.until = a.now().Add(discoveryRetry)
		}
		close(e.running)
		e.running = nil
		c.mu.Unlock()
		return p, err
	}
}

// entry returns the cache entry of key, made when missing; c.mu is held.
// Making one drops those past their time and not being discovered: there
// is one per configured directory.
func (c *providerCache) entry(key [2]string, now time.Time) *providerEntry {
	if e, ok := c.m[key]; ok {
		return e
	}
	if c.m == nil {
		c.m = map[[2]string]*providerEntry{}
	}
	for k, v := range c.m {
		if v.running == nil && !now.Before(v.until) {
			delete(c.m, k)
		}
	}
	e := &providerEntry{}
	c.m[key] = e
	return e
}

// discover fetches a directory's discovery document.
func (a *Auth) discover(ctx context.Context, discovery, issuer string) (*msProvider, error) {
	keys := &idpWatch{}
	dctx := oidc.ClientContext(ctx, a.idpClient(keys))
	if discovery != issuer {
		dctx = oidc.InsecureIssuerURLContext(dctx, issuer)
	}
	op, err := oidc.NewProvider(dctx, discovery)
	if err != nil {
		return nil, discoveryError(keys, err)
	}
	var meta struct {
		AuthMethods  []string        `json:"token_endpoint_auth_methods_supported"`
		IssParameter json.RawMessage `json:"authorization_response_iss_parameter_supported"`
	}
	if err := op.Claims(&meta); err != nil {
		return nil, discoveryError(keys, err)
	}
	return &msProvider{Provider: op, authMethods: meta.AuthMethods, keys: keys,
		issParameter: bytes.Equal(meta.IssParameter, jsonTrue)}, nil
}

// oauthConfig is the OAuth client of a tenant's application at provider p.
// A secret goes in the Authorization header (client_secret_basic, RFC 6749
// §2.3.1's default) unless discovery lists other methods but not that one;
// then in the form (client_secret_post). A certificate sends no secret: the
// caller adds the client assertion (clientAuthOptions).
func (a *Auth) oauthConfig(p *msProvider, m *store.MS365) *oauth2.Config {
	ep := p.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInHeader
	if m.UsesCertificate() || (len(p.authMethods) > 0 && !slices.Contains(p.authMethods, "client_secret_basic")) {
		ep.AuthStyle = oauth2.AuthStyleInParams
	}
	c := &oauth2.Config{
		ClientID:    m.ApplicationID,
		Endpoint:    ep,
		RedirectURL: a.microsoftRedirectURL(),
		Scopes:      msScopes,
	}
	if !m.UsesCertificate() {
		c.ClientSecret = m.ClientSecret
	}
	return c
}

// clientAuthOptions are the token request's extra parameters: for a
// certificate, a fresh client assertion (private_key_jwt, RFC 7523) whose
// audience is the exact token endpoint.
func (a *Auth) clientAuthOptions(p *msProvider, m *store.MS365) ([]oauth2.AuthCodeOption, error) {
	if !m.UsesCertificate() {
		return nil, nil
	}
	s, err := clientassert.New(m.ApplicationID, m.ClientCertificate, m.ClientPrivateKey)
	if err != nil {
		return nil, err
	}
	jwt, err := s.Assertion(p.Endpoint().TokenURL, a.now())
	if err != nil {
		return nil, err
	}
	return []oauth2.AuthCodeOption{
		oauth2.SetAuthURLParam("client_assertion_type", clientassert.Type),
		oauth2.SetAuthURLParam("client_assertion", jwt),
	}, nil
}

// microsoftRedirectURL is the redirect URI registered at the IdP:
// Config.MicrosoftRedirectURL, else the callback route below PublicURL.
func (a *Auth) microsoftRedirectURL() string {
	if a.cfg.MicrosoftRedirectURL != "" {
		return a.cfg.MicrosoftRedirectURL
	}
	return strings.TrimSuffix(a.cfg.PublicURL, "/") + microsoftCallbackPath
}

// microsoftAuthorizeEndpoint is the discovered authorization endpoint of the
// tenant's directory, for GET /info.
func (a *Auth) microsoftAuthorizeEndpoint(ctx context.Context, t store.Tenant) (string, error) {
	p, err := a.provider(ctx, t.MS365)
	if err != nil {
		return "", err
	}
	return p.Endpoint().AuthURL, nil
}
