package oidcprovider

// New, the HTTP layout of the provider, and the end of the login step.

import (
	"context"
	"crypto"
	"crypto/rand"
	"net/http"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// LoginPath is the login step's path under the issuer, which the caller
// serves: zitadel sends the browser there with the auth request's ID in
// the query parameter "id".
const LoginPath = "/login"

// Provider is an OpenID provider. It serves every path under its issuer but
// [LoginPath]; mount it with the issuer's path stripped. Its methods are
// safe for concurrent use.
type Provider struct {
	Issuer string

	storage  *storage
	handler  http.Handler
	callback func(context.Context, string) string
	tokenURL string
}

// New returns a provider for clients, whose issuer is the absolute URL
// issuer (http is allowed: it is meant for loopback).
func New(issuer string, clients ...Client) (*Provider, error) {
	registered := make(map[string]*opClient, len(clients))
	for _, c := range clients {
		oc, err := newOPClient(c, issuer+LoginPath+"?id=")
		if err != nil {
			return nil, err
		}
		registered[c.ID] = oc
	}
	st, err := newStorage(registered)
	if err != nil {
		return nil, err
	}

	config := &op.Config{
		CodeMethodS256:          true,
		AuthMethodPost:          true,
		AuthMethodPrivateKeyJWT: true,
	}
	if _, err := rand.Read(config.CryptoKey[:]); err != nil {
		return nil, err
	}
	zp, err := op.NewProvider(config, st, op.StaticIssuer(issuer), op.WithAllowInsecure())
	if err != nil {
		return nil, err
	}
	wrapped := &entraProvider{Provider: zp, tokenURL: zp.TokenEndpoint().Absolute(issuer)}
	router := op.CreateRouter(wrapped)
	mux := http.NewServeMux()
	mux.Handle("/", router)
	mux.Handle(zp.TokenEndpoint().Relative(), tokenMethod(router))
	return &Provider{
		Issuer:   issuer,
		storage:  st,
		handler:  mux,
		callback: op.AuthCallbackURL(zp),
		tokenURL: wrapped.tokenURL,
	}, nil
}

// ServeHTTP serves the provider's endpoints, by their paths under the issuer.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.handler.ServeHTTP(w, r) }

// SignIn ends the login step of the auth request id: u is the account it
// signed in. It returns the URL to send the browser to, from where zitadel
// redirects it to the client with a code. An auth request is signed in
// once; an unknown one is [ErrUnknownRequest].
func (p *Provider) SignIn(id string, u User) (string, error) {
	if err := p.storage.signIn(id, u); err != nil {
		return "", err
	}
	return p.callback(op.ContextWithIssuer(context.Background(), p.Issuer), id), nil
}

// TokenEndpoint returns the token endpoint URL, the audience a client assertion must name.
func (p *Provider) TokenEndpoint() string { return p.tokenURL }

// AddClientKey lets the client authenticate with private_key_jwt under pub
// too (replacing a key added earlier), as an admin uploading a certificate
// to an app registration does; its own method keeps working.
func (p *Provider) AddClientKey(clientID string, pub crypto.PublicKey) error {
	return p.storage.addClientKey(clientID, pub)
}

// entraProvider is zitadel's provider with Entra ID's audience rule for client
// assertions: aud must be the exact token endpoint, not the issuer (see the
// package doc). The verification itself is zitadel's.
type entraProvider struct {
	*op.Provider
	tokenURL string
}

// JWTProfileVerifier is zitadel's own verifier (same iat age and clock offset
// as op.Provider's) expecting the token endpoint as audience.
func (e *entraProvider) JWTProfileVerifier(context.Context) *op.JWTProfileVerifier {
	return op.NewJWTProfileVerifier(e.Storage(), e.tokenURL, time.Hour, time.Second)
}

// TokenEndpointSigningAlgorithmsSupported lists what op.VerifyJWTAssertion
// accepts when given no list, so discovery tells the truth about PS256.
func (e *entraProvider) TokenEndpointSigningAlgorithmsSupported() []string {
	return []string{"RS256", "ES256", "PS256"}
}

// maxTokenBody bounds the token request's form; a token request is a few KB.
const maxTokenBody = 1 << 20

// tokenMethod tells the storage which secret method a token request used
// (see the package doc): the form is parsed here, and zitadel reads it as
// parsed.
func tokenMethod(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var method oidc.AuthMethod
		r.Body = http.MaxBytesReader(w, r.Body, maxTokenBody)
		_ = r.ParseForm() // a malformed form is zitadel's to refuse
		switch _, _, basic := r.BasicAuth(); {
		case basic:
			method = oidc.AuthMethodBasic
		case r.PostForm.Has("client_secret"):
			method = oidc.AuthMethodPost
		}
		next.ServeHTTP(w, r.WithContext(withMethod(r.Context(), method)))
	})
}

type methodKey struct{}

// withMethod records the secret method a token request used ("" for none).
func withMethod(ctx context.Context, m oidc.AuthMethod) context.Context {
	return context.WithValue(ctx, methodKey{}, m)
}

func methodFromContext(ctx context.Context) oidc.AuthMethod {
	m, _ := ctx.Value(methodKey{}).(oidc.AuthMethod)
	return m
}

// tokenRequestWithoutSecret reports whether ctx is a token request's that
// sent no secret.
func tokenRequestWithoutSecret(ctx context.Context) bool {
	m, ok := ctx.Value(methodKey{}).(oidc.AuthMethod)
	return ok && m == ""
}
