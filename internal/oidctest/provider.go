package oidctest

// Start, the test server around the provider and the headless login step.

import (
	"crypto"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/pbxauth/pbxauth/internal/oidcprovider"
)

// Client is a registered application.
type Client = oidcprovider.Client

// User is the account the next authorization signs in.
type User = oidcprovider.User

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

	op       *oidcprovider.Provider
	recorder *tokenRecorder
	iss      *issParameter

	mu   sync.Mutex
	user *User // signed in by the next login
}

// Start runs a provider for clients; it closes at t.Cleanup.
func Start(t testing.TB, opts Options, clients ...Client) *Provider {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	op, err := oidcprovider.New(issuer, clients...)
	if err != nil {
		t.Fatal(err)
	}
	token, err := url.Parse(op.TokenEndpoint())
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{Issuer: issuer, op: op, recorder: &tokenRecorder{next: op}}
	mux := http.NewServeMux()
	mux.Handle("/", op)
	mux.Handle(token.Path, p.recorder)
	mux.Handle(oidc.DiscoveryEndpoint, discovery(op, opts))
	mux.HandleFunc(oidcprovider.LoginPath, p.login)
	p.iss = &issParameter{next: mux, issuer: issuer}
	srv.Config.Handler = p.iss
	srv.Start()
	t.Cleanup(srv.Close)
	return p
}

// SetUser sets the user the next authorizations sign in.
func (p *Provider) SetUser(u User) {
	// A copy, so that the test changing its claims afterwards does not
	// reach the next sign-in.
	u.IDTokenClaims = maps.Clone(u.IDTokenClaims)
	if v := u.EmailVerified; v != nil {
		u.EmailVerified = new(*v)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.user = &u
}

// SetIssParameter sets the iss parameter (RFC 9207) of the next authorization
// responses, the issuer or a forged value; "" (the default) sends none, whatever
// discovery says.
func (p *Provider) SetIssParameter(iss string) { p.iss.set(iss) }

// TokenRequests returns every request seen at the token endpoint, in order.
func (p *Provider) TokenRequests() []TokenRequest { return p.recorder.requests() }

// TokenEndpoint returns the token endpoint URL, the audience a client assertion must name.
func (p *Provider) TokenEndpoint() string { return p.op.TokenEndpoint() }

// AddClientKey lets the client also authenticate with private_key_jwt
// under pub, as an admin uploading a certificate to an app registration
// does; its secret keeps working.
func (p *Provider) AddClientKey(clientID string, pub crypto.PublicKey) error {
	return p.op.AddClientKey(clientID, pub)
}

// login is the provider's login step: no page, it signs in the current user
// and hands the request back to zitadel.
func (p *Provider) login(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	u := p.user
	p.mu.Unlock()
	if u == nil {
		http.Error(w, "oidctest: no user set (Provider.SetUser)", http.StatusBadRequest)
		return
	}
	next, err := p.op.SignIn(r.FormValue("id"), *u)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, next, http.StatusFound)
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
