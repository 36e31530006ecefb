// This file holds the sign-ins and their tokens: the records, the
// TokenStore capability that issues, grants, rotates and revokes them, and
// the rules a store enforces on them.

package store

import (
	"context"
	"time"
)

// Family is one sign-in: every access and refresh token issued from it, through
// any number of refreshes, belongs to it and is revoked with it.
type Family struct {
	ID               string
	UserID           string
	PasswordVerified bool   // this sign-in proved the password
	Method           string // "password", "microsoft", ...
	CreatedAt        time.Time
	ExpiresAt        time.Time // absolute end of the sign-in
	Revoked          bool
	// LastUsedAt is when a token of the sign-in was last accepted, to
	// the minute: it is written at most once a minute (SignInStore).
	LastUsedAt time.Time
	// ClientIP and UserAgent are those of the request that signed in; the
	// user agent without control characters, at most 256 bytes.
	ClientIP  string
	UserAgent string
	// Epoch is the user's sign-in epoch under which the credential that
	// started this sign-in was proved; CreateFamily stores the family only
	// while the user's epoch still equals it.
	Epoch int64
	// DeviceID is the ID of the known device (Device.ID) the sign-in was
	// made through, "" for none: a password change made through this
	// sign-in spares that device and deletes the user's others
	// (DirectoryStore.ChangePassword).
	DeviceID string
	// PasskeyID is the ID of the passkey ([Passkey.ID]) this sign-in was
	// made with, first or second factor; "" for none. Deleting that
	// passkey ends the sign-in (PasskeyStore.DeletePasskey), and a store
	// that keeps passkeys stores such a family only while the passkey
	// exists, is the user's and is not disabled (ErrStale otherwise).
	PasskeyID string
}

// TokenKind tells access tokens from refresh tokens.
type TokenKind uint8

// Token kinds.
const (
	AccessToken TokenKind = iota + 1
	RefreshToken
)

// Token is an issued access or refresh token, kept by hash.
type Token struct {
	Hash      Hash
	Kind      TokenKind
	FamilyID  string
	ExpiresAt time.Time
	// UsedAt is when a refresh token was rotated; zero while it is fresh.
	UsedAt time.Time
	// Parent is the refresh token whose rotation issued this token; zero
	// for a sign-in's first tokens.
	Parent Hash
	// GraceSeed and GraceUntil are kept on the refresh token a rotation
	// issued while Config.RefreshReuseGrace is open: the random r from
	// which a retried rotation derives the same pair again (with the
	// presented token, which the store never sees). The store erases the
	// seed when this token is rotated, and DeleteExpired erases it from
	// GraceUntil on. A zero seed: no retry is possible.
	GraceSeed  GraceSeed
	GraceUntil time.Time
}

// GraceSeed is the 256 random bits kept with a rotation while its grace
// window is open; the zero value is none.
type GraceSeed [32]byte

// Grant is what an access or refresh token stands for: the token, its sign-in
// and its user, as read in one step.
type Grant struct {
	Token  Token
	Family Family
	User   User
	// Successor is set only with ErrTokenReused from RotateRefresh: the
	// refresh token that Token's rotation issued, while it is unused and
	// its GraceSeed is kept and GraceUntil is after now; zero otherwise.
	Successor Token
}

// TokenStore keeps sign-ins (token families) and their tokens. It is part
// of [Store]. Tokens are kept by [Hash] only.
type TokenStore interface {
	// CreateFamily stores a new sign-in with its first tokens, atomically,
	// also across processes:
	//   - only while the user's Epoch still equals f.Epoch, else ErrStale
	//     and nothing is stored (a user that does not exist has no epoch
	//     to compare: the family is stored, and its grants find no user);
	//   - when maxLive > 0 and the user would have more than maxLive live
	//     sign-ins at f.CreatedAt with this one, the least recently used
	//     others (LastUsedAt ascending, then CreatedAt, then ID) are revoked
	//     in the same step until maxLive remain, never f itself, and their
	//     IDs are returned (nil when none).
	// ErrConflict when the family ID or a token hash exists. Concurrent
	// CreateFamily calls for one user never leave more than maxLive live.
	CreateFamily(ctx context.Context, f Family, maxLive int, tokens ...Token) (evicted []string, err error)
	// AddToken adds a token to a live family; ErrNotFound when the family
	// is missing, revoked or expired at now, ErrConflict when the hash exists.
	AddToken(ctx context.Context, t Token, now time.Time) error
	// Grant returns what a token of the given kind stands for. ErrNotFound
	// when the token is missing, of another kind or expired at now, its
	// family is revoked or expired, or its user is missing or disabled. A
	// rotated refresh token is returned with its UsedAt set. A store need
	// not fill the grant's User.Epoch, Family.Epoch, Family.DeviceID and
	// Family.PasskeyID (no check reads them), so that the bearer check reads no more than
	// it needs.
	Grant(ctx context.Context, h Hash, kind TokenKind, now time.Time) (Grant, error)
	// RotateRefresh marks the fresh refresh token h used and adds next (the
	// new access and refresh tokens; the store sets their FamilyID to h's
	// family, which the caller does not know yet), atomically: of
	// concurrent rotations of one token exactly one succeeds. It returns
	// the grant of h as it was before the rotation. When h was already
	// used — also by a concurrent rotation that won — it returns that grant
	// with ErrTokenReused (never ErrConflict), with Grant.Successor set as
	// documented there, and adds nothing; the caller decides whether to
	// answer a retry or revoke. Rotating a token erases its own GraceSeed,
	// in the same step. The store keeps next's Parent, GraceSeed and
	// GraceUntil as given. ErrNotFound in every case where Grant would
	// return it; ErrConflict only when a hash of next exists already.
	RotateRefresh(ctx context.Context, h Hash, now time.Time, next ...Token) (Grant, error)
	// RevokeFamily revokes a sign-in and so all its tokens. Revoking an
	// unknown or revoked family is not an error.
	RevokeFamily(ctx context.Context, familyID string) error
	// RevokeUser revokes every family of the user and advances the
	// user's Epoch, in one step.
	RevokeUser(ctx context.Context, userID string) error
}

// Validate reports whether a Store may keep f and tokens as a new sign-in:
// an ID, a user, a method and an end; tokens of a known kind, each of f.
func (f Family) Validate(tokens ...Token) error {
	switch {
	case f.ID == "":
		return invalidf("sign-in without an ID")
	case f.UserID == "":
		return invalidf("sign-in %q without a user", f.ID)
	case f.Method == "":
		return invalidf("sign-in %q without a method", f.ID)
	case f.ExpiresAt.IsZero():
		return invalidf("sign-in %q without an end", f.ID)
	}
	for _, t := range tokens {
		if t.FamilyID != f.ID {
			return invalidf("a token of sign-in %q names sign-in %q", f.ID, t.FamilyID)
		}
		if err := t.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// Validate reports whether a Store may keep t: an access or refresh token
// of a sign-in.
func (t Token) Validate() error {
	if t.Kind != AccessToken && t.Kind != RefreshToken {
		return invalidf("token of unknown kind %d", t.Kind)
	}
	if t.FamilyID == "" {
		return invalidf("token without a sign-in")
	}
	return nil
}
