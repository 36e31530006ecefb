package oidcprovider

// The in-memory op.Storage behind the provider: clients, auth requests, codes,
// access tokens and the signing key. Only what the authorization code flow needs
// is implemented; every other grant is refused.

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"errors"
	"fmt"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

var (
	errUnsupported = errors.New("oidcprovider: not supported by this provider")
	errSignedIn    = errors.New("oidcprovider: auth request already signed in")
)

// ErrUnknownRequest is the error of [Provider.SignIn] for an auth request
// the provider does not hold: unknown, already redeemed, or never made.
var ErrUnknownRequest = errors.New("oidcprovider: unknown auth request")

// accessTokenLifetime is long enough for any sign-in.
const accessTokenLifetime = time.Hour

type storage struct {
	clients map[string]*opClient // fixed at Start
	key     signingKey

	mu           sync.Mutex
	addedKeys    map[string]crypto.PublicKey // by client ID: keys added after Start
	authRequests map[string]*authRequest
	codes        map[string]string // code → auth request ID
	tokens       map[string]*accessToken
}

type accessToken struct {
	user    *User
	scopes  []string
	expires time.Time
}

func newStorage(clients map[string]*opClient) (*storage, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	return &storage{
		clients:      clients,
		key:          signingKey{id: rand.Text(), priv: priv},
		authRequests: make(map[string]*authRequest),
		codes:        make(map[string]string),
		tokens:       make(map[string]*accessToken),
	}, nil
}

// signIn marks the auth request done for u. A request is signed in once:
// its user never changes afterwards.
func (s *storage) signIn(id string, u User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, ok := s.authRequests[id]
	if !ok {
		return ErrUnknownRequest
	}
	if req.user != nil {
		return errSignedIn
	}
	req.user = u.clone()
	req.authTime = time.Now()
	return nil
}

func (s *storage) CreateAuthRequest(_ context.Context, r *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	req := &authRequest{
		id:           rand.Text(),
		clientID:     r.ClientID,
		redirectURI:  r.RedirectURI,
		state:        r.State,
		nonce:        r.Nonce,
		scopes:       r.Scopes,
		responseType: r.ResponseType,
		responseMode: r.ResponseMode,
	}
	if r.CodeChallenge != "" {
		req.codeChallenge = &oidc.CodeChallenge{Challenge: r.CodeChallenge, Method: r.CodeChallengeMethod}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.authRequests[req.id] = req
	return req.copy(), nil
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, ok := s.authRequests[id]
	if !ok {
		return nil, ErrUnknownRequest
	}
	return req.copy(), nil
}

func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	id, ok := s.codes[code]
	s.mu.Unlock()
	if !ok {
		return nil, errors.New("oidcprovider: unknown code")
	}
	return s.AuthRequestByID(ctx, id)
}

func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = id
	return nil
}

// DeleteAuthRequest is called once the code is redeemed, so a code works once.
func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.authRequests, id)
	for code, reqID := range s.codes {
		if reqID == id {
			delete(s.codes, code)
		}
	}
	return nil
}

func (s *storage) CreateAccessToken(_ context.Context, tr op.TokenRequest) (string, time.Time, error) {
	req, ok := tr.(*authRequest)
	if !ok || req.user == nil {
		return "", time.Time{}, errUnsupported
	}
	id := rand.Text()
	expires := time.Now().Add(accessTokenLifetime)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[id] = &accessToken{user: req.user, scopes: req.scopes, expires: expires}
	return id, expires, nil
}

func (s *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errUnsupported
}

func (s *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, errUnsupported
}

func (s *storage) TerminateSession(context.Context, string, string) error { return nil }

func (s *storage) RevokeToken(context.Context, string, string, string) *oidc.Error {
	return oidc.ErrInvalidRequest().WithDescription("revocation is not supported")
}

func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) { return s.key, nil }

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{s.key}}, nil
}

// GetClientByClientID returns the client; one with a key added, seen by a
// token request that sent no secret, as a private_key_jwt client.
func (s *storage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, ok := s.clients[id]
	if !ok {
		return nil, fmt.Errorf("oidcprovider: unknown client %q", id)
	}
	if s.addedKey(id) != nil && tokenRequestWithoutSecret(ctx) {
		jwt := *c
		jwt.method = oidc.AuthMethodPrivateKeyJWT
		return &jwt, nil
	}
	return c, nil
}

// addClientKey records a key the client may sign assertions with.
func (s *storage) addClientKey(id string, pub crypto.PublicKey) error {
	if _, ok := s.clients[id]; !ok {
		return fmt.Errorf("oidcprovider: unknown client %q", id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.addedKeys == nil {
		s.addedKeys = map[string]crypto.PublicKey{}
	}
	s.addedKeys[id] = pub
	return nil
}

// addedKey is the key added for the client, or nil.
func (s *storage) addedKey(id string) crypto.PublicKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addedKeys[id]
}

// AuthorizeClientIDSecret checks the secret and, since zitadel does not, that
// the request used the client's own method (basic or post); the token endpoint
// wrapper puts that method in ctx. A plain error here is zitadel's invalid_client.
func (s *storage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	c, ok := s.clients[id]
	if !ok {
		return fmt.Errorf("oidcprovider: unknown client %q", id)
	}
	if used := methodFromContext(ctx); used != c.method {
		return fmt.Errorf("oidcprovider: client %q is registered for %s, the request used %q", id, c.method, used)
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(c.Secret)) != 1 {
		return fmt.Errorf("oidcprovider: wrong secret for client %q", id)
	}
	return nil
}

// SetUserinfoFromScopes is deprecated in zitadel; SetUserinfoFromRequest does the work.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token: the subject, the extra claims and,
// when the user says so, the scoped email and profile claims.
func (s *storage) SetUserinfoFromRequest(_ context.Context, info *oidc.UserInfo, r op.IDTokenRequest, _ []string) error {
	req, ok := r.(*authRequest)
	if !ok || req.user == nil {
		return errUnsupported
	}
	u := req.user
	info.Subject = u.Subject
	if u.EmailInIDToken {
		u.setScopedClaims(info, req.scopes)
	}
	for k, v := range u.IDTokenClaims {
		info.AppendClaims(k, v)
	}
	return nil
}

// SetUserinfoFromToken answers the UserInfo endpoint for an access token.
func (s *storage) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, _, _ string) error {
	s.mu.Lock()
	t, ok := s.tokens[tokenID]
	s.mu.Unlock()
	if !ok || time.Now().After(t.expires) {
		return errors.New("oidcprovider: unknown or expired access token")
	}
	info.Subject = t.user.Subject
	if t.user.UserInfoSubject != "" {
		info.Subject = t.user.UserInfoSubject
	}
	t.user.setScopedClaims(info, t.scopes)
	return nil
}

func (s *storage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errUnsupported
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetKeyByIDAndClientID returns the client's registered public key whatever key
// ID is asked for: Entra-style assertions name their key by x5t, not kid.
func (s *storage) GetKeyByIDAndClientID(_ context.Context, keyID, clientID string) (*jose.JSONWebKey, error) {
	c, ok := s.clients[clientID]
	if k := s.addedKey(clientID); ok && k != nil {
		return &jose.JSONWebKey{Key: k, KeyID: keyID, Use: "sig"}, nil
	}
	if !ok || c.PublicKey == nil {
		// An oidc.Error survives zitadel's wrapping: a client without a key
		// failed client authentication (RFC 6749 section 5.2), not the grant.
		return nil, oidc.ErrInvalidClient().WithDescription("no key registered for client %q", clientID)
	}
	return &jose.JSONWebKey{Key: c.PublicKey, KeyID: keyID, Use: "sig"}, nil
}

// ValidateJWTProfileScopes refuses the JWT bearer grant zitadel always offers:
// the provider issues tokens for the code flow only.
func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errUnsupported
}

func (s *storage) Health(context.Context) error { return nil }

// signingKey signs ID tokens with RS256.
type signingKey struct {
	id   string
	priv *rsa.PrivateKey
}

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k signingKey) Key() any                                    { return k.priv }
func (k signingKey) ID() string                                  { return k.id }

// publicKey is the signing key as the JWKS publishes it.
type publicKey struct{ signingKey }

func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return &k.priv.PublicKey }
