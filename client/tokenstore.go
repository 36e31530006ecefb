// This file holds the contract for keeping a sign-in between runs: Token,
// TokenStore and its optional lock.

package client

import (
	"context"
	"time"
)

// Token is a sign-in's token pair as the client keeps it.
type Token struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	// Expiry is when the access token ends, as computed from expires_in
	// when it was received.
	Expiry time.Time `json:"expiry"`
}

// IsZero says whether t holds no sign-in.
func (t Token) IsZero() bool { return t.RefreshToken == "" && t.AccessToken == "" }

// TokenStore keeps the client's token pair between runs (a file, a
// keychain, a database row). Load and Save must be safe for concurrent use.
//
// Error contract: Load returns the zero Token and nil when nothing is
// stored, an error only when the store failed. Save stores t, replacing
// what was there; the zero Token clears it. The client saves a new pair
// before it uses it; when Save fails it keeps the pair in memory and
// reports the error (Config.OnSaveError), so a running program stays signed
// in while the next run may not be.
type TokenStore interface {
	Load(ctx context.Context) (Token, error)
	Save(ctx context.Context, t Token) error
}

// LockingTokenStore is a TokenStore shared by several processes (or
// clients): around every refresh the client holds Lock, reads the pair
// again, and adopts it instead of refreshing when another holder already
// did. Lock waits until the lock is taken or ctx is done; a lock whose
// holder died must not stay held.
type LockingTokenStore interface {
	TokenStore
	Lock(ctx context.Context) (unlock func(), err error)
}
