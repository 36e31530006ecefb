// Package idpfault runs an OpenID provider on loopback whose every answer a
// test sets, to see what a client does when a provider is broken or hostile.
// Unlike internal/oidctest, a certified provider that behaves, it answers
// what it is told: discovery (counted; failed or held), the token endpoint
// (a redirect, an error, an echo of the request, an ID token it signs with
// claims of the test's choosing), the signing keys (served, failed or
// unreachable) and UserInfo.
//
// Endpoints are at fixed paths below the issuer: /token, /keys, /userinfo,
// /authorize (listed, never served: tests build the callback themselves).
package idpfault

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// keyID names the provider's one signing key.
const keyID = "idpfault-key"

// Provider is a running provider on 127.0.0.1. Its methods are safe for
// concurrent use.
type Provider struct {
	Issuer string // http://127.0.0.1:PORT

	key         *rsa.PrivateKey
	discoveries atomic.Int32

	mu          sync.Mutex
	authMethods []string
	keysURI     string
	handlers    map[string]http.Handler // by path; nil means the default
}

// Start runs a provider; it closes at t.Cleanup. Discovery lists
// client_secret_basic and client_secret_post until SetAuthMethods.
func Start(t testing.TB) *Provider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	p := &Provider{Issuer: "http://" + srv.Listener.Addr().String(), key: key,
		authMethods: []string{"client_secret_basic", "client_secret_post"}, handlers: map[string]http.Handler{}}
	p.keysURI = p.Issuer + "/keys"
	srv.Config.Handler = http.HandlerFunc(p.serve)
	srv.Start()
	t.Cleanup(srv.Close)
	return p
}

// Discoveries says how many discovery requests arrived.
func (p *Provider) Discoveries() int { return int(p.discoveries.Load()) }

// TokenEndpoint is the token endpoint discovery names.
func (p *Provider) TokenEndpoint() string { return p.Issuer + "/token" }

// SetDiscovery answers discovery with h (nil: the document).
func (p *Provider) SetDiscovery(h http.Handler) { p.set(discoveryPath, h) }

// SetToken answers the token endpoint with h (nil: 400 invalid_grant).
func (p *Provider) SetToken(h http.Handler) { p.set("/token", h) }

// SetKeys answers the signing keys with h (nil: the provider's key).
func (p *Provider) SetKeys(h http.Handler) { p.set("/keys", h) }

// SetUserInfo answers UserInfo with h (nil: 401).
func (p *Provider) SetUserInfo(h http.Handler) { p.set("/userinfo", h) }

// SetAuthMethods sets token_endpoint_auth_methods_supported in discovery.
func (p *Provider) SetAuthMethods(m ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.authMethods = m
}

// KeysUnreachable makes discovery name, as jwks_uri, a loopback port where
// nothing listens (for providers discovered from then on).
func (p *Provider) KeysUnreachable(t testing.TB) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keysURI = "http://" + addr + "/keys"
}

func (p *Provider) set(path string, h http.Handler) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.handlers[path] = h
}

const discoveryPath = "/.well-known/openid-configuration"

func (p *Provider) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == discoveryPath {
		p.discoveries.Add(1)
	}
	p.mu.Lock()
	h := p.handlers[r.URL.Path]
	p.mu.Unlock()
	if h != nil {
		h.ServeHTTP(w, r)
		return
	}
	switch r.URL.Path {
	case discoveryPath:
		p.document(w)
	case "/keys":
		writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.key.PublicKey, KeyID: keyID, Algorithm: "RS256", Use: "sig"}}})
	case "/token":
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
	default:
		http.Error(w, "idpfault: nothing here", http.StatusUnauthorized)
	}
}

func (p *Provider) document(w http.ResponseWriter) {
	p.mu.Lock()
	doc := map[string]any{
		"issuer":                                p.Issuer,
		"authorization_endpoint":                p.Issuer + "/authorize",
		"token_endpoint":                        p.TokenEndpoint(),
		"jwks_uri":                              p.keysURI,
		"userinfo_endpoint":                     p.Issuer + "/userinfo",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"token_endpoint_auth_methods_supported": p.authMethods,
	}
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, doc)
}

// IDToken signs claims (RS256, with the key /keys serves) as an ID token.
// The test writes every claim, iss, aud, exp and nonce included.
func (p *Provider) IDToken(t testing.TB, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: p.key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", keyID))
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
