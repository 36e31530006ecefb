package oidcprovider

// The registered applications, as zitadel's op.Client sees them.

import (
	"crypto"
	"fmt"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Client is a registered application.
type Client struct {
	ID           string
	Secret       string           // for client_secret_basic and client_secret_post
	AuthMethod   string           // "client_secret_basic", "client_secret_post" or "private_key_jwt"; enforced
	PublicKey    crypto.PublicKey // for private_key_jwt: the certificate's public key
	RedirectURIs []string
}

// opClient is a Client as op.Client: a confidential web application allowed the
// authorization code grant only.
type opClient struct {
	Client
	method   oidc.AuthMethod
	loginURL string // the provider's login step; the auth request ID is appended
}

func newOPClient(c Client, loginURL string) (*opClient, error) {
	method := oidc.AuthMethod(c.AuthMethod)
	switch method {
	case oidc.AuthMethodBasic, oidc.AuthMethodPost:
		if c.Secret == "" {
			return nil, fmt.Errorf("oidcprovider: client %q: %s needs a Secret", c.ID, method)
		}
	case oidc.AuthMethodPrivateKeyJWT:
		if c.PublicKey == nil {
			return nil, fmt.Errorf("oidcprovider: client %q: private_key_jwt needs a PublicKey", c.ID)
		}
	default:
		return nil, fmt.Errorf("oidcprovider: client %q: unknown AuthMethod %q", c.ID, c.AuthMethod)
	}
	return &opClient{Client: c, method: method, loginURL: loginURL}, nil
}

func (c *opClient) GetID() string                       { return c.ID }
func (c *opClient) RedirectURIs() []string              { return c.Client.RedirectURIs }
func (c *opClient) PostLogoutRedirectURIs() []string    { return nil }
func (c *opClient) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c *opClient) AuthMethod() oidc.AuthMethod         { return c.method }
func (c *opClient) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *opClient) GrantTypes() []oidc.GrantType        { return []oidc.GrantType{oidc.GrantTypeCode} }
func (c *opClient) LoginURL(id string) string           { return c.loginURL + id }
func (c *opClient) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }
func (c *opClient) IDTokenLifetime() time.Duration      { return time.Hour }
func (c *opClient) DevMode() bool                       { return false }
func (c *opClient) IsScopeAllowed(string) bool          { return false }
func (c *opClient) ClockSkew() time.Duration            { return 0 }

// IDTokenUserinfoClaimsAssertion is false: whether the email goes into the ID
// token is the user's EmailInIDToken, decided in the storage.
func (c *opClient) IDTokenUserinfoClaimsAssertion() bool { return false }

func (c *opClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return keepScopes
}

func (c *opClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return keepScopes
}

func keepScopes(scopes []string) []string { return scopes }
