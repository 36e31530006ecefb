package oidctest

// Start, the HTTP layout of the provider and the headless login step.

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Options tune the provider.
type Options struct {
	// DiscoveryAuthMethods, when non-nil, replaces token_endpoint_auth_methods_supported in the
	// discovery document served to clients (the provider itself is unchanged), to test a
	// client's choice. An empty non-nil slice removes the field.
	DiscoveryAuthMethods []string
	// NoUserInfo removes userinfo_endpoint from discovery (the endpoint still answers).
	NoUserInfo bool
	// IssParameterSupported adds authorization_response_iss_parameter_supported: true to
	// discovery (RFC 9207). Whether the provider sends iss is [Provider.SetIssParameter]'s.
	IssParameterSupported bool
}

// Provider is a running OpenID provider on 127.0.0.1. Its methods are safe for
// concurrent use.
type Provider struct {
	Issuer string // http://127.0.0.1:PORT

	storage  *storage
	recorder *tokenRecorder
	tokenURL string
	iss      *issParameter
}

const loginPath = "/login"

// Start runs a provider for clients; it closes at t.Cleanup.
func Start(t testing.TB, opts Options, clients ...Client) *Provider {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()

	registered := make(map[string]*opClient, len(clients))
	for _, c := range clients {
		oc, err := newOPClient(c, issuer+loginPath+"?id=")
		if err != nil {
			t.Fatal(err)
		}
		registered[c.ID] = oc
	}
	st, err := newStorage(registered)
	if err != nil {
		t.Fatal(err)
	}

	config := &op.Config{
		CodeMethodS256:          true,
		AuthMethodPost:          true,
		AuthMethodPrivateKeyJWT: true,
	}
	if _, err := rand.Read(config.CryptoKey[:]); err != nil {
		t.Fatal(err)
	}
	zp, err := op.NewProvider(config, st, op.StaticIssuer(issuer), op.WithAllowInsecure())
	if err != nil {
		t.Fatal(err)
	}
	wrapped := &entraProvider{Provider: zp, tokenURL: zp.TokenEndpoint().Absolute(issuer)}
	router := op.CreateRouter(wrapped)

	p := &Provider{
		Issuer:   issuer,
		storage:  st,
		recorder: &tokenRecorder{next: router},
		tokenURL: wrapped.tokenURL,
	}
	mux := http.NewServeMux()
	mux.Handle("/", router)
	mux.Handle(zp.TokenEndpoint().Relative(), p.recorder)
	mux.Handle(oidc.DiscoveryEndpoint, discovery(router, opts))
	mux.Handle(loginPath, op.NewIssuerInterceptor(zp.IssuerFromRequest).HandlerFunc(p.login(zp)))
	p.iss = &issParameter{next: mux, issuer: issuer}
	srv.Config.Handler = p.iss
	srv.Start()
	t.Cleanup(srv.Close)
	return p
}

// SetUser sets the user the next authorizations sign in.
func (p *Provider) SetUser(u User) { p.storage.setUser(u) }

// SetIssParameter sets the iss parameter (RFC 9207) of the next authorization
// responses, the issuer or a forged value; "" (the default) sends none, whatever
// discovery says.
func (p *Provider) SetIssParameter(iss string) { p.iss.set(iss) }

// TokenRequests returns every request seen at the token endpoint, in order.
func (p *Provider) TokenRequests() []TokenRequest { return p.recorder.requests() }

// TokenEndpoint returns the token endpoint URL, the audience a client assertion must name.
func (p *Provider) TokenEndpoint() string { return p.tokenURL }

// login is the provider's login step: no page, it signs in the current user
// and hands the request back to zitadel.
func (p *Provider) login(zp *op.Provider) http.HandlerFunc {
	callback := op.AuthCallbackURL(zp)
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.FormValue("id")
		if err := p.storage.signIn(id); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, callback(r.Context(), id), http.StatusFound)
	}
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

// discovery serves zitadel's discovery document with the edits opts ask for.
func discovery(next http.Handler, opts Options) http.Handler {
	if opts.DiscoveryAuthMethods == nil && !opts.NoUserInfo && !opts.IssParameterSupported {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var doc map[string]any
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &doc) != nil {
			http.Error(w, "oidctest: discovery failed", http.StatusInternalServerError)
			return
		}
		if m := opts.DiscoveryAuthMethods; m != nil {
			doc["token_endpoint_auth_methods_supported"] = m
			if len(m) == 0 {
				delete(doc, "token_endpoint_auth_methods_supported")
			}
		}
		if opts.NoUserInfo {
			delete(doc, "userinfo_endpoint")
		}
		if opts.IssParameterSupported {
			doc["authorization_response_iss_parameter_supported"] = true
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	})
}
