// This file holds the optional Store capability of passkeys (WebAuthn
// credentials): their records, the user's WebAuthn handle, and the rules
// that keep them safe under concurrency — a credential ID belongs to one
// user, a user has at most a given number, a sign count only moves forward,
// and nothing registered in a race with the end of a user's sign-ins
// survives it.

package store

import (
	"context"
	"errors"
	"time"
)

// ErrLimit: a per-user limit the caller gave would be exceeded (more
// passkeys than allowed); nothing is stored.
var ErrLimit = errors.New("pbxauth: limit reached")

// Passkey is a user's WebAuthn credential. A store keeps the byte fields as
// opaque bytes and returns copies.
type Passkey struct {
	// ID is pbxauth's own identifier ([NewID]), the one the API shows; a
	// credential ID is the authenticator's and never appears in a URL.
	ID     string
	UserID string
	// CredentialID is the authenticator's credential ID (at most 1023
	// bytes, WebAuthn L3 §5.8.3), unique across all users.
	CredentialID []byte
	// PublicKey is the credential's public key, COSE-encoded, and
	// Algorithm its COSE algorithm (-7 ES256, -8 EdDSA, -257 RS256).
	PublicKey []byte
	Algorithm int
	// SignCount is the last signature counter accepted; only UsePasskey
	// moves it, and only forward.
	SignCount uint32
	// BackupEligible (BE) is fixed at registration; BackupState (BS) is
	// the last one an assertion reported.
	BackupEligible bool
	BackupState    bool
	Transports     []string // "usb", "nfc", "ble", "internal", "hybrid", ...
	AAGUID         []byte   // the authenticator model, 16 bytes, all zero when unknown
	Name           string   // the user's name for it
	CreatedAt      time.Time
	LastUsedAt     time.Time // zero until its first use
	// Disabled passkeys sign in no one (UsePasskey refuses them) until the
	// user deletes them; DisabledReason says why ("counter", ...), and
	// DisabledAt when.
	Disabled       bool
	DisabledReason string
	DisabledAt     time.Time
}

// maxCredentialID is WebAuthn L3's bound on a credential ID's length.
const maxCredentialID = 1023

// Validate reports whether a Store may keep p as a new passkey: an ID, a
// user, a credential ID of 1–1023 bytes and a public key.
func (p Passkey) Validate() error {
	switch {
	case p.ID == "":
		return invalidf("passkey without an ID")
	case p.UserID == "":
		return invalidf("passkey %q without a user", p.ID)
	case len(p.CredentialID) == 0 || len(p.CredentialID) > maxCredentialID:
		return invalidf("passkey %q: credential ID must be 1-1023 bytes", p.ID)
	case len(p.PublicKey) == 0:
		return invalidf("passkey %q without a public key", p.ID)
	}
	return nil
}

// PasskeyStore is implemented by stores that keep passkeys; every shipped
// store does. Without it, every passkey route answers 404 and no user has a
// passkey. All methods must be safe for concurrent use, also by several
// processes sharing one backend; the atomic steps are in the package's
// atomicity table.
//
// A store implementing PasskeyStore also honours [Family.PasskeyID] in
// [TokenStore.CreateFamily]: a sign-in made with a passkey is stored only
// while that passkey exists, is the user's and is not disabled (ErrStale
// otherwise), so that no sign-in in flight survives the passkey's
// deletion.
type PasskeyStore interface {
	// WebAuthnHandle returns the user's WebAuthn user handle. The first
	// call for a user stores newHandle (64 random bytes the caller made)
	// as it; later calls return the stored one and ignore newHandle,
	// atomically: concurrent first calls, also across processes, all
	// return the one handle stored. ErrNotFound for an unknown user;
	// ErrConflict when newHandle is another user's handle (random bytes:
	// never in practice). A handle outlives the user's passkeys.
	WebAuthnHandle(ctx context.Context, userID string, newHandle []byte) ([]byte, error)
	// UserByWebAuthnHandle returns the ID of the user whose handle is
	// handle, or ErrNotFound.
	UserByWebAuthnHandle(ctx context.Context, handle []byte) (string, error)

	// AddPasskey stores p, a new passkey of p.UserID, in one atomic step,
	// also across processes, and only when all of these hold:
	//   - the user's Epoch still equals epoch and familyID (the sign-in
	//     of the bearer who registers it) is a live family of the user at
	//     now — else ErrStale: nothing registered in a race with a reset,
	//     a sign-out or ResetPasskeys survives it (an unknown user has no
	//     live family, so ErrStale too);
	//   - no passkey of any user has p.CredentialID (nor p.ID) — else
	//     ErrConflict;
	//   - the user has fewer than max passkeys (disabled ones count) —
	//     else ErrLimit; concurrent additions never leave more than max.
	// The checks are made in that order. ErrInvalid, with nothing stored,
	// when p.Validate refuses p. The store keeps every field as given
	// (SignCount, flags, CreatedAt, ...), Disabled false.
	AddPasskey(ctx context.Context, p Passkey, epoch int64, familyID string, max int, now time.Time) error
	// PasskeyByCredentialID returns the passkey with the credential ID,
	// whoever's it is, disabled or not; ErrNotFound when there is none.
	PasskeyByCredentialID(ctx context.Context, credentialID []byte) (Passkey, error)
	// Passkeys returns the user's passkeys, disabled ones included, newest
	// first (CreatedAt descending, ties by ID descending); an empty slice
	// and nil error when there are none.
	Passkeys(ctx context.Context, userID string) ([]Passkey, error)
	// RenamePasskey sets the name of the user's passkey id and returns the
	// passkey; ErrNotFound when id is unknown or another user's.
	RenamePasskey(ctx context.Context, userID, id, name string) (Passkey, error)
	// DeletePasskey deletes the user's passkey id and, in the same step,
	// revokes every live family at now made with it (Family.PasskeyID ==
	// id), and returns their IDs (in no particular order; empty when
	// none). The user's Epoch does not move: the user's other sign-ins are
	// kept. ErrNotFound, with nothing changed, when id is unknown or
	// another user's.
	DeletePasskey(ctx context.Context, userID, id string, now time.Time) ([]string, error)
	// UsePasskey records a successful assertion of passkey id: it sets
	// SignCount to signCount, BackupState to backupState and LastUsedAt to
	// now, only when the count moves forward — signCount greater than the
	// stored count, or both zero (an authenticator without a counter) —
	// atomically: of concurrent uses with one non-zero count exactly one
	// succeeds. ErrStale, with nothing written, when the count does not
	// move forward; ErrNotFound when the passkey is missing or disabled.
	// The caller decides what a stale count means (BE=0: refuse and
	// disable; BE=1: accept, then TouchPasskey).
	UsePasskey(ctx context.Context, id string, signCount uint32, backupState bool, now time.Time) error
	// TouchPasskey sets BackupState and LastUsedAt of passkey id and
	// leaves its SignCount: an accepted assertion of a synced passkey whose
	// count is not meaningful. ErrNotFound when the passkey is missing or
	// disabled.
	TouchPasskey(ctx context.Context, id string, backupState bool, now time.Time) error
	// DisablePasskey disables passkey id with the reason, at now; its
	// sign-ins are kept. Disabling a disabled passkey keeps the first
	// reason and time and is not an error; ErrNotFound when id is unknown.
	DisablePasskey(ctx context.Context, id, reason string, now time.Time) error
	// ResetPasskeys deletes every passkey of the user, revokes every live
	// family of the user at now and advances the user's Epoch, in one
	// step, and returns the revoked family IDs (in no particular order;
	// empty when none). The user's WebAuthn handle is kept. ErrNotFound
	// for an unknown user.
	ResetPasskeys(ctx context.Context, userID string, now time.Time) ([]string, error)
	// ResetPasswordPasskeys is [DirectoryStore.ResetPassword] that also
	// deletes the user's passkeys created at or after since (an attacker's
	// would be among them; zero since deletes none), all in one step, and
	// returns the deleted passkeys, newest first (empty when none): a
	// passkey added in a race with the reset is either refused (its epoch
	// moved) or deleted by it. ErrNotFound for an unknown user, with
	// nothing changed. forceReset is ResetPassword's.
	ResetPasswordPasskeys(ctx context.Context, userID, newHash string, forceReset bool, since time.Time) ([]Passkey, error)
}
