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
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/pbxauth/pbxauth/internal/clientassert"
)

// providerTTL bounds how long a discovered provider is trusted before it is
// discovered again (its signing keys are refreshed by go-oidc on their own
// whenever a token names an unknown key).
const providerTTL = time.Hour

// msScopes are the scopes of every Microsoft sign-in.
var msScopes = []string{oidc.ScopeOpenID, "profile", "email"}

// microsoftCallbackPath is where the IdP returns, below PublicURL.
const microsoftCallbackPath = "/auth/sign_in/microsoft/callback"

// configured reports whether m has what a sign-in needs: a client and a
// directory (or an explicit issuer) in a known national cloud.
func (m *MS365) configured() bool {
	if m == nil || m.ApplicationID == "" {
		return false
	}
	if m.Issuer != "" {
		return true
	}
	_, _, ok := m.issuer()
	return ok && m.DirectoryID != ""
}

// issuer returns the URL whose /.well-known/openid-configuration is fetched
// and the issuer ID tokens must carry. They differ in one case: Microsoft's
// China cloud is discovered at login.chinacloudapi.cn but names itself (and
// signs its tokens as) login.partner.microsoftonline.cn.
func (m *MS365) issuer() (discovery, issuer string, ok bool) {
	if m.Issuer != "" {
		return m.Issuer, m.Issuer, true
	}
	switch strings.ToUpper(m.NationalCloud) {
	case "", "GLOBAL":
		u := "https://login.microsoftonline.com/" + m.DirectoryID + "/v2.0"
		return u, u, true
	case "CHINA":
		return "https://login.chinacloudapi.cn/" + m.DirectoryID + "/v2.0",
			"https://login.partner.microsoftonline.cn/" + m.DirectoryID + "/v2.0", true
	}
	return "", "", false
}

var errNotConfigured = errors.New("pbxauth: tenant has no usable Microsoft settings")

// providerCache keeps discovered providers by discovery URL and issuer.
// Failures are not kept: the next sign-in tries again. The zero value is
// ready to use.
type providerCache struct {
	mu sync.Mutex
	m  map[[2]string]cachedProvider
}

type cachedProvider struct {
	p       *msProvider
	expires time.Time
}

// msProvider is a discovered provider and what its discovery document says
// of client authentication.
type msProvider struct {
	*oidc.Provider
	// authMethods is token_endpoint_auth_methods_supported, as listed.
	authMethods []string
	// issParameter: authorization_response_iss_parameter_supported (RFC 9207).
	issParameter bool
}

// provider returns the tenant's discovered OIDC provider.
func (a *Auth) provider(ctx context.Context, m *MS365) (*msProvider, error) {
	if !m.configured() {
		return nil, errNotConfigured
	}
	discovery, issuer, _ := m.issuer()
	key := [2]string{discovery, issuer}
	now := a.now()
	c := &a.providers
	c.mu.Lock()
	hit, ok := c.m[key]
	c.mu.Unlock()
	if ok && now.Before(hit.expires) {
		return hit.p, nil
	}

	dctx := oidc.ClientContext(ctx, a.cfg.HTTPClient)
	if discovery != issuer {
		dctx = oidc.InsecureIssuerURLContext(dctx, issuer)
	}
	op, err := oidc.NewProvider(dctx, discovery)
	if err != nil {
		return nil, err
	}
	var meta struct {
		AuthMethods  []string        `json:"token_endpoint_auth_methods_supported"`
		IssParameter json.RawMessage `json:"authorization_response_iss_parameter_supported"`
	}
	if err := op.Claims(&meta); err != nil {
		return nil, err
	}
	p := &msProvider{Provider: op, authMethods: meta.AuthMethods, issParameter: bytes.Equal(meta.IssParameter, jsonTrue)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[[2]string]cachedProvider{}
	}
	for k, v := range c.m { // one entry per configured directory; drop the stale
		if !now.Before(v.expires) {
			delete(c.m, k)
		}
	}
	c.m[key] = cachedProvider{p: p, expires: now.Add(providerTTL)}
	return p, nil
}

// Validate checks settings a host is about to store: a known national
// cloud, and a certificate credential whose certificate and private key
// (PEM, RSA) belong together. It does not reach the IdP.
func (m *MS365) Validate() error {
	if _, _, ok := m.issuer(); !ok {
		return fmt.Errorf("pbxauth: national_cloud %q is neither GLOBAL nor CHINA", m.NationalCloud)
	}
	if m.usesCertificate() {
		if _, err := clientassert.New(m.ApplicationID, m.ClientCertificate, m.ClientPrivateKey); err != nil {
			return fmt.Errorf("pbxauth: Microsoft client certificate: %w", err)
		}
	}
	return nil
}

// usesCertificate reports whether the tenant authenticates to the token
// endpoint with a certificate rather than a secret.
func (m *MS365) usesCertificate() bool { return m.ClientCertificate != "" || m.ClientPrivateKey != "" }

// oauthConfig is the OAuth client of a tenant's application at provider p.
// A secret goes in the Authorization header (client_secret_basic, RFC 6749
// §2.3.1's default) unless discovery lists other methods but not that one;
// then in the form (client_secret_post). A certificate sends no secret: the
// caller adds the client assertion (clientAuthOptions).
func (a *Auth) oauthConfig(p *msProvider, m *MS365) *oauth2.Config {
	ep := p.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInHeader
	if m.usesCertificate() || (len(p.authMethods) > 0 && !slices.Contains(p.authMethods, "client_secret_basic")) {
		ep.AuthStyle = oauth2.AuthStyleInParams
	}
	c := &oauth2.Config{
		ClientID:    m.ApplicationID,
		Endpoint:    ep,
		RedirectURL: a.microsoftRedirectURL(),
		Scopes:      msScopes,
	}
	if !m.usesCertificate() {
		c.ClientSecret = m.ClientSecret
	}
	return c
}

// clientAuthOptions are the token request's extra parameters: for a
// certificate, a fresh client assertion (private_key_jwt, RFC 7523) whose
// audience is the exact token endpoint.
func (a *Auth) clientAuthOptions(p *msProvider, m *MS365) ([]oauth2.AuthCodeOption, error) {
	if !m.usesCertificate() {
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
func (a *Auth) microsoftAuthorizeEndpoint(ctx context.Context, t Tenant) (string, error) {
	p, err := a.provider(ctx, t.MS365)
	if err != nil {
		return "", err
	}
	return p.Endpoint().AuthURL, nil
}
