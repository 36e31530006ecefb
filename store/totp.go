// This file holds the optional Store capability of authenticator apps: a
// user's TOTP secret (sealed, never in the clear), the last time step it
// accepted, and the hashes of the user's recovery codes, each spent alone
// or together with the second-factor flow it completes.

package store

import (
	"context"
	"time"
)

// TOTP is a user's authenticator app: pending from enrolment until a first
// code confirms it, then active.
type TOTP struct {
	UserID string
	// Secret is the sealed secret (key id ‖ nonce ‖ AES-256-GCM), bound to
	// the user; stores keep it as opaque bytes.
	Secret    []byte
	Active    bool
	LastStep  int64 // the last time step accepted; only later ones are
	CreatedAt time.Time
}

// TOTPStore is implemented by stores that keep authenticator apps and
// recovery codes; every shipped store does. Without it, enrolment answers
// 404 and no user has an app. All methods must be safe for concurrent use,
// also by several processes sharing one backend.
type TOTPStore interface {
	// PutPendingTOTP stores t (Active false) as the user's pending
	// enrolment, replacing an earlier pending one; ErrConflict when the
	// user has an active app.
	PutPendingTOTP(ctx context.Context, t TOTP) error
	// TOTP returns the user's app, pending or active, or ErrNotFound.
	TOTP(ctx context.Context, userID string) (TOTP, error)
	// ActivateTOTP makes the pending app active with step as its last
	// accepted step and replaces the user's recovery codes with hashes, in
	// one step, atomically also across processes — only while the user's
	// Epoch still equals epoch, the epoch under which the sign-in that
	// asked for it was read live: ErrStale otherwise, with nothing stored
	// (a user that does not exist has no epoch to compare, as with
	// CreateFamily). ErrNotFound when there is no pending app (none, or
	// active already).
	ActivateTOTP(ctx context.Context, userID string, epoch, step int64, hashes []string) error
	// AcceptTOTPStep records step as the last accepted step of the user's
	// active app only if it is later than the stored one, atomically: of
	// concurrent calls with one step exactly one succeeds. ErrConflict for
	// a step not later (a replay), ErrNotFound without an active app.
	AcceptTOTPStep(ctx context.Context, userID string, step int64) error
	// DeleteTOTP removes the user's app and recovery codes; a user without
	// them is not an error.
	DeleteTOTP(ctx context.Context, userID string) error
	// ReplaceRecoveryCodes replaces the user's recovery codes with hashes,
	// only while the user's Epoch still equals epoch, atomically as
	// ActivateTOTP: ErrStale otherwise, with nothing changed.
	ReplaceRecoveryCodes(ctx context.Context, userID string, epoch int64, hashes []string) error
	// ConsumeRecoveryCode removes the user's code with the given hash,
	// atomically: of concurrent consumers exactly one succeeds, the others
	// get ErrNotFound, as does an unknown or used code.
	ConsumeRecoveryCode(ctx context.Context, userID, hash string) error
	// RedeemRecoveryCode removes the user's code with the given hash and
	// consumes the user's live FlowTwoFactor flow h, both or neither, in
	// one atomic step also across processes, and returns the flow: a code
	// is never spent on a flow that another request completed or ended
	// meanwhile. ErrNotFound, with nothing changed, when the code is not
	// an unused code of the user; ErrStale, with nothing changed, when it
	// is but the flow is missing, consumed, expired at now, of another
	// purpose or of another user. Of concurrent calls on one flow at most
	// one succeeds, whatever their codes.
	RedeemRecoveryCode(ctx context.Context, userID, hash string, h Hash, now time.Time) (Flow, error)
}
