// This file holds flows: single-use, short-lived steps of an
// authentication flow, and the FlowStore capability that keeps them.

package store

import (
	"context"
	"time"
)

// FlowPurpose binds a flow token to the one step it may be used for.
type FlowPurpose string

// Flow purposes.
const (
	FlowTwoFactor     FlowPurpose = "two_factor"
	FlowPasswordReset FlowPurpose = "password_reset"
	FlowMicrosoft     FlowPurpose = "microsoft"       // exchange after a Microsoft sign-in
	FlowOIDCState     FlowPurpose = "microsoft_state" // the OAuth state of a pending Microsoft sign-in
)

// Flow is a single-use, short-lived step of an authentication flow, kept by
// the hash of its token (or of its OAuth state).
type Flow struct {
	Hash      Hash
	Purpose   FlowPurpose
	UserID    string // empty for an OAuth state
	TenantID  string
	ExpiresAt time.Time

	// Second factor: the live code's hash and life, how many codes were sent
	// and when the last one was, and how many verifications were tried.
	CodeHash      string
	CodeExpiresAt time.Time
	Sends         int
	LastSentAt    time.Time
	Attempts      int

	// Data is purpose-specific and opaque to the store (for example the
	// PKCE verifier, nonce and callback of an OAuth state): UTF-8 text
	// without NUL, so that any SQL text column holds it.
	Data string

	// Version is the compare-and-swap guard of UpdateFlow: the store sets it
	// to 1 on CreateFlow and increments it on every update.
	Version int64

	// Epoch is, for a flow of a user (UserID set), the user's sign-in epoch
	// under which the flow's first credential was proved: CreateFlow stores
	// the flow only while the user's epoch still equals it, and the sign-in
	// that completes the flow carries it on (Family.Epoch).
	Epoch int64
}

// FlowStore keeps flows by the Hash of their token. It is part of [Store].
type FlowStore interface {
	// CreateFlow stores a new flow with Version 1; ErrConflict when its
	// hash exists; ErrStale, with nothing stored, when f.UserID names a
	// user whose Epoch is no longer f.Epoch.
	CreateFlow(ctx context.Context, f Flow) error
	// Flow returns the live flow with the given hash, or ErrNotFound when
	// missing, consumed or expired at now.
	Flow(ctx context.Context, h Hash, now time.Time) (Flow, error)
	// UpdateFlow replaces a live flow if its stored Version still equals
	// f.Version, and stores it with Version+1; ErrConflict when the version
	// moved, ErrNotFound when the flow is gone or expired at now.
	UpdateFlow(ctx context.Context, f Flow, now time.Time) error
	// ConsumeFlow removes and returns the live flow with the given hash and
	// purpose, atomically: of concurrent consumers exactly one gets it, the
	// others ErrNotFound. A flow of another purpose is not consumed.
	ConsumeFlow(ctx context.Context, h Hash, purpose FlowPurpose, now time.Time) (Flow, error)
}
