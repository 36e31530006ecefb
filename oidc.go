// This file finds a tenant's Microsoft Entra ID provider: the issuer its
// settings name, OIDC discovery through the host's HTTP client, and a cache
// of discovered providers so that a sign-in does not cost a discovery
// round trip.

package pbxauth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
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
	p       *oidc.Provider
	expires time.Time
}

// provider returns the tenant's discovered OIDC provider.
func (a *Auth) provider(ctx context.Context, m *MS365) (*oidc.Provider, error) {
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
	p, err := oidc.NewProvider(dctx, discovery)
	if err != nil {
		return nil, err
	}
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

// oauthConfig is the OAuth client of a tenant's application at provider p.
func (a *Auth) oauthConfig(p *oidc.Provider, m *MS365) *oauth2.Config {
	ep := p.Endpoint()
	// Entra ID takes the secret in the form; saying so saves the
	// header-then-form probing of AuthStyleAutoDetect.
	ep.AuthStyle = oauth2.AuthStyleInParams
	return &oauth2.Config{
		ClientID:     m.ApplicationID,
		ClientSecret: m.ClientSecret,
		Endpoint:     ep,
		RedirectURL:  strings.TrimSuffix(a.cfg.PublicURL, "/") + microsoftCallbackPath,
		Scopes:       msScopes,
	}
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
