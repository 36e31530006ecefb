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

	"github.com/pbxauth/pbxauth/internal/grace"
	"github.com/pbxauth/pbxauth/internal/useragent"
	"github.com/pbxauth/pbxauth/store"
)

// newToken returns 256 random bits, base64url without padding (43 bytes).
func newToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// newID returns a random identifier for records (families, users, tenants).
func newID() string { return store.NewID() }

// tokenPair is the JSON of a successful sign-in or refresh.
//
// The fields come in the order of PortSIP's own sample answers
// (access_token first): shell clients that take the first JSON value as
// the token work against pbxauth as against PortSIP.
type tokenPair struct {
	AccessToken  string `json:"access_token"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
}

// secondFactor is the JSON of a sign-in that needs the emailed code.
type secondFactor struct {
	TwoFactorEnabled bool   `json:"two_factor_enabled"`
	Token            string `json:"token"`
}

// signIn describes a sign-in about to be issued.
type signIn struct {
	user store.User
	// epoch is the user's sign-in epoch read before the credential that
	// starts this sign-in was checked (for a flow, the flow's): the Store
	// refuses the sign-in with ErrStale once it moved.
	epoch            int64
	passwordVerified bool
	method           string
	// cookieOnly: no refresh token reaches the client, only the browser
	// session holds the sign-in, so it ends with the session's lifetime
	// instead of outliving it in the list of sessions for a month.
	cookieOnly bool
	// qr: the credentials came from a provisioning QR code (Event.QR).
	qr bool
	// device is the known device a sign-in that proved the password is
	// made through (its ID is recorded with the sign-in); zero for others.
	device signInDevice
	// passkeyID is the passkey the sign-in was made with, if any: the
	// Store refuses the sign-in once that passkey is gone or disabled, and
	// deleting it ends the sign-in.
	passkeyID string
}

// issued is a new sign-in: its family and its first token pair.
type issued struct {
	user    store.User // set by issue only
	family  store.Family
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
// first access and refresh tokens in one step — only while the user's
// sign-in epoch is still s.epoch (ErrStale otherwise: a reset, a disable
// or a global sign-out answered while the credential was being checked).
// The user's least recently used sign-ins beyond Limits.SignInsPerUser end
// in the same step, each reported.
func (a *Auth) issue(r *http.Request, s signIn) (issued, error) {
	ctx, now := r.Context(), a.now()
	f := store.Family{
		ID:               newID(),
		UserID:           s.user.ID,
		PasswordVerified: s.passwordVerified,
		Method:           s.method,
		CreatedAt:        now,
		ExpiresAt:        now.Add(a.signInTTL(s)),
		LastUsedAt:       now,
		ClientIP:         a.clientIP(r),
		UserAgent:        useragent.Clean(r.UserAgent()),
		Epoch:            s.epoch,
		DeviceID:         s.device.id,
		PasskeyID:        s.passkeyID,
	}
	access, refresh := newToken(), newToken()
	expires := minTime(now.Add(a.cfg.AccessTokenTTL), f.ExpiresAt)
	evicted, err := a.store().CreateFamily(ctx, f, a.cfg.Limits.SignInsPerUser,
		store.Token{Hash: store.HashToken(access), Kind: store.AccessToken, FamilyID: f.ID, ExpiresAt: expires},
		store.Token{Hash: store.HashToken(refresh), Kind: store.RefreshToken, FamilyID: f.ID, ExpiresAt: f.ExpiresAt},
	)
	if err != nil {
		return issued{}, err
	}
	for _, id := range evicted {
		a.emit(ctx, Event{Kind: EventSessionRevoked, UserID: s.user.ID, TenantID: s.user.TenantID, SessionID: id, Reason: ReasonEvicted})
	}
	return issued{user: s.user, family: f, access: access, refresh: refresh, expires: expires}, nil
}

// issueFailed answers a sign-in that issue (or the flow leading to it)
// could not store. ErrStale — the user's credentials changed, or their
// sign-ins were ended, while this one's credential was being checked — is
// the 401 of a wrong password, reported as EventSignInFailed with reason
// credentials_changed; anything else is the Store's failure.
func (a *Auth) issueFailed(r *http.Request, s signIn, err error) *apiError {
	ctx := r.Context()
	if errors.Is(err, store.ErrStale) {
		a.emit(ctx, Event{Kind: EventSignInFailed, UserID: s.user.ID, TenantID: s.user.TenantID, Username: s.user.Username,
			ClientIP: a.clientIP(r), Method: s.method, Reason: ReasonCredentialsChanged})
		return errUnauthorized
	}
	return a.internal(ctx, "issue tokens", err)
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
func (a *Auth) addAccessToken(ctx context.Context, f store.Family) (string, time.Time, error) {
	now := a.now()
	access := newToken()
	expires := minTime(now.Add(a.cfg.AccessTokenTTL), f.ExpiresAt)
	err := a.store().AddToken(ctx, store.Token{Hash: store.HashToken(access), Kind: store.AccessToken, FamilyID: f.ID, ExpiresAt: expires}, now)
	return access, expires, err
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// errRefreshReused: the refresh token was rotated before and this is not
// a retry within the grace: the family has been revoked.
var errRefreshReused = errors.New("pbxauth: refresh token reused")

// rotate trades a refresh token for a new pair in the same family. It
// returns ErrNotFound for unknown, expired or revoked tokens and
// errRefreshReused for a replay. Within Config.RefreshReuseGrace, the same
// token presented again while its successor is unused is a retry whose
// answer was lost: it gets the same pair again (see successors).
func (a *Auth) rotate(ctx context.Context, refreshToken string) (store.Grant, issued, error) {
	now := a.now()
	h := store.HashToken(refreshToken)
	// The family's absolute end caps both tokens; the store refuses a
	// family past it, so the refresh token may carry the longest life.
	accessExp := now.Add(a.cfg.AccessTokenTTL)
	access, refresh, seed, err := a.successors(ctx, refreshToken, h, now)
	if err != nil {
		return store.Grant{}, issued{}, err
	}
	next := []store.Token{
		{Hash: store.HashToken(access), Kind: store.AccessToken, ExpiresAt: accessExp, Parent: h},
		{Hash: store.HashToken(refresh), Kind: store.RefreshToken, ExpiresAt: now.Add(a.cfg.SignInTTL), Parent: h},
	}
	if seed != (store.GraceSeed{}) {
		next[1].GraceSeed, next[1].GraceUntil = seed, now.Add(a.cfg.RefreshReuseGrace)
	}
	g, err := a.store().RotateRefresh(ctx, h, now, next...)
	if errors.Is(err, store.ErrTokenReused) {
		if is, ok := a.retried(refreshToken, g, now); ok {
			return g, is, nil
		}
		if rerr := a.store().RevokeFamily(ctx, g.Family.ID); rerr != nil {
			return g, issued{}, rerr
		}
		return g, issued{}, errRefreshReused
	}
	if err != nil {
		return g, issued{}, err
	}
	return g, issued{family: g.Family, access: access, refresh: refresh, expires: minTime(accessExp, g.Family.ExpiresAt)}, nil
}

// successors returns the pair a rotation of the presented token issues.
// Without a grace they are random. With one they are derived from the
// presented token and a fresh seed r (internal/grace), which the store
// keeps with the new refresh token only while a retry is allowed: a retry
// derives the same pair from the token it presents, and a copy of the
// database, which lacks the token, derives nothing. The derivation needs
// the family's ID, so the grant is read first.
func (a *Auth) successors(ctx context.Context, presented string, h store.Hash, now time.Time) (access, refresh string, r store.GraceSeed, err error) {
	if a.cfg.RefreshReuseGrace <= 0 {
		return newToken(), newToken(), store.GraceSeed{}, nil
	}
	g, err := a.store().Grant(ctx, h, store.RefreshToken, now)
	if err != nil {
		return "", "", store.GraceSeed{}, err
	}
	r = grace.NewSeed()
	return grace.Token(presented, byte(store.AccessToken), g.Family.ID, r), grace.Token(presented, byte(store.RefreshToken), g.Family.ID, r), r, nil
}

// retried answers a reuse that is a retry: within the grace of the first
// rotation, whose successor is still unused (the store returns it only
// then). The pair is derived again and must be the stored one; its access
// token's expires_in counts down from the first answer.
func (a *Auth) retried(presented string, g store.Grant, now time.Time) (issued, bool) {
	succ := g.Successor
	if a.cfg.RefreshReuseGrace <= 0 || succ.GraceSeed == (store.GraceSeed{}) || now.Sub(g.Token.UsedAt) > a.cfg.RefreshReuseGrace {
		return issued{}, false
	}
	refresh := grace.Token(presented, byte(store.RefreshToken), g.Family.ID, succ.GraceSeed)
	if store.HashToken(refresh) != succ.Hash {
		return issued{}, false
	}
	access := grace.Token(presented, byte(store.AccessToken), g.Family.ID, succ.GraceSeed)
	expires := minTime(g.Token.UsedAt.Add(a.cfg.AccessTokenTTL), g.Family.ExpiresAt)
	return issued{family: g.Family, access: access, refresh: refresh, expires: expires}, true
}

// newFlow creates a single-use flow token bound to purpose.
func (a *Auth) newFlow(ctx context.Context, f store.Flow) (string, error) {
	tok := newToken()
	f.Hash = store.HashToken(tok)
	if f.ExpiresAt.IsZero() {
		f.ExpiresAt = a.now().Add(a.cfg.FlowTTL)
	}
	if err := a.store().CreateFlow(ctx, f); err != nil {
		return "", err
	}
	return tok, nil
}
