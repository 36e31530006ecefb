// This file is the one place tokens are made and issued: random opaque
// strings, sign-ins with their first token pair, flow tokens, and refresh
// rotation with reuse detection.

package pbxauth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"github.com/pbxauth/pbxauth/internal/useragent"
)

// newToken returns 256 random bits, base64url without padding (43 bytes).
func newToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// newID returns a random identifier for records (families, users, tenants).
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// NewID returns a random identifier suitable for User.ID and Tenant.ID.
func NewID() string { return newID() }

// tokenPair is the JSON of a successful sign-in or refresh.
type tokenPair struct {
	TokenType    string `json:"token_type"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int64  `json:"expires_in"`
}

// secondFactor is the JSON of a sign-in that needs the emailed code.
type secondFactor struct {
	TwoFactorEnabled bool   `json:"two_factor_enabled"`
	Token            string `json:"token"`
}

// signIn describes a sign-in about to be issued.
type signIn struct {
	user             User
	passwordVerified bool
	method           string
	// cookieOnly: no refresh token reaches the client, only the browser
	// session holds the sign-in, so it ends with the session's lifetime
	// instead of outliving it in the list of sessions for a month.
	cookieOnly bool
}

// issued is a new sign-in: its family and its first token pair.
type issued struct {
	user    User // set by issue only
	family  Family
	access  string
	refresh string
	expires time.Time // of the access token
}

func (i issued) pair(now time.Time) tokenPair {
	return tokenPair{TokenType: "Bearer", AccessToken: i.access, RefreshToken: i.refresh, ExpiresIn: secondsUntil(i.expires, now)}
}

// secondsUntil is the whole seconds from now to t, at least 0.
func secondsUntil(t, now time.Time) int64 {
	d := t.Sub(now)
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

// issue starts a sign-in for s.user, made by the request r, and stores its
// first access and refresh tokens in one step.
func (a *Auth) issue(r *http.Request, s signIn) (issued, error) {
	ctx, now := r.Context(), a.now()
	f := Family{
		ID:               newID(),
		UserID:           s.user.ID,
		PasswordVerified: s.passwordVerified,
		Method:           s.method,
		CreatedAt:        now,
		ExpiresAt:        now.Add(a.signInTTL(s)),
		LastUsedAt:       now,
		ClientIP:         a.clientIP(r),
		UserAgent:        useragent.Clean(r.UserAgent()),
	}
	access, refresh := newToken(), newToken()
	expires := minTime(now.Add(a.cfg.AccessTokenTTL), f.ExpiresAt)
	err := a.store.CreateFamily(ctx, f,
		Token{Hash: HashToken(access), Kind: AccessToken, FamilyID: f.ID, ExpiresAt: expires},
		Token{Hash: HashToken(refresh), Kind: RefreshToken, FamilyID: f.ID, ExpiresAt: f.ExpiresAt},
	)
	if err != nil {
		return issued{}, err
	}
	return issued{user: s.user, family: f, access: access, refresh: refresh, expires: expires}, nil
}

// signInTTL is the life of the sign-in s: SignInTTL, or the browser
// session's lifetime when that is shorter and only the session holds it.
func (a *Auth) signInTTL(s signIn) time.Duration {
	if l := a.sessions.Lifetime; s.cookieOnly && l > 0 && l < a.cfg.SignInTTL {
		return l
	}
	return a.cfg.SignInTTL
}

// addAccessToken issues one more access token in a live family (a cookie
// session whose token expired).
func (a *Auth) addAccessToken(ctx context.Context, f Family) (string, time.Time, error) {
	now := a.now()
	access := newToken()
	expires := minTime(now.Add(a.cfg.AccessTokenTTL), f.ExpiresAt)
	err := a.store.AddToken(ctx, Token{Hash: HashToken(access), Kind: AccessToken, FamilyID: f.ID, ExpiresAt: expires}, now)
	return access, expires, err
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// errRefreshReused: the refresh token was rotated before; the family has
// been revoked (or, inside the grace window, the token is just refused).
var errRefreshReused = errors.New("pbxauth: refresh token reused")

// rotate trades a refresh token for a new pair in the same family. It
// returns ErrNotFound for unknown, expired or revoked tokens and
// errRefreshReused for a replay.
func (a *Auth) rotate(ctx context.Context, refreshToken string) (Grant, issued, error) {
	now := a.now()
	access, refresh := newToken(), newToken()
	// The family's absolute end caps both tokens; the store refuses a
	// family past it, so the refresh token may carry the longest life.
	accessExp := now.Add(a.cfg.AccessTokenTTL)
	g, err := a.store.RotateRefresh(ctx, HashToken(refreshToken), now,
		Token{Hash: HashToken(access), Kind: AccessToken, ExpiresAt: accessExp},
		Token{Hash: HashToken(refresh), Kind: RefreshToken, ExpiresAt: now.Add(a.cfg.SignInTTL)},
	)
	if errors.Is(err, ErrTokenReused) {
		if a.cfg.RefreshReuseGrace <= 0 || now.Sub(g.Token.UsedAt) > a.cfg.RefreshReuseGrace {
			if rerr := a.store.RevokeFamily(ctx, g.Family.ID); rerr != nil {
				return g, issued{}, rerr
			}
		}
		return g, issued{}, errRefreshReused
	}
	if err != nil {
		return g, issued{}, err
	}
	return g, issued{family: g.Family, access: access, refresh: refresh, expires: minTime(accessExp, g.Family.ExpiresAt)}, nil
}

// newFlow creates a single-use flow token bound to purpose.
func (a *Auth) newFlow(ctx context.Context, f Flow) (string, error) {
	tok := newToken()
	f.Hash = HashToken(tok)
	if f.ExpiresAt.IsZero() {
		f.ExpiresAt = a.now().Add(a.cfg.FlowTTL)
	}
	if err := a.store.CreateFlow(ctx, f); err != nil {
		return "", err
	}
	return tok, nil
}
