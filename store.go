// This file holds the Store interface, the records it keeps and its error
// contract. The reference implementation is MemoryStore (memstore.go); every
// implementation proves itself with storetest.Run.

package pbxauth

import (
	"context"
	"crypto/sha256"
	"errors"
	"time"
)

// Sentinel errors of the Store contract. Stores return them (possibly
// wrapped); handlers test them with errors.Is. Any other error is a backend
// failure: the handler answers 500 or 503 and issues nothing.
var (
	// ErrNotFound: the record does not exist, has expired at the given now,
	// was consumed, or (for tokens) was revoked.
	ErrNotFound = errors.New("pbxauth: not found")
	// ErrConflict: a record with the same unique key exists, or a
	// compare-and-swap lost to a concurrent writer.
	ErrConflict = errors.New("pbxauth: conflict")
	// ErrTokenReused: a refresh token that was already rotated was presented
	// again. RotateRefresh returns it together with the token's grant.
	ErrTokenReused = errors.New("pbxauth: refresh token reused")
	// ErrStale: a condition the caller read no longer holds — the user's
	// sign-in epoch moved (a password reset, a disable or a global sign-out
	// ended the user's sign-ins since the caller read the user), so the
	// sign-in, session or flow it was about to start is not stored.
	ErrStale = errors.New("pbxauth: stale")
	// ErrUnavailable wraps an outage of the backend — no connection, a
	// timeout, the database shutting down — as opposed to a failure of
	// the request itself: handlers answer 503 with Retry-After instead of
	// 500, since the same request may succeed in a moment.
	ErrUnavailable = errors.New("pbxauth: store unavailable")
)

// Hash is the SHA-256 of a token. Stores keep only hashes, never tokens, so a
// leaked database holds nothing a client could present.
type Hash [sha256.Size]byte

// HashToken returns the Hash under which token is stored.
func HashToken(token string) Hash {
	// Every authenticated request comes here. Our tokens are 43 bytes:
	// copied into a buffer on the stack they cost no allocation, where
	// []byte(token) would cost one; longer input takes the plain way.
	var buf [64]byte
	if len(token) <= len(buf) {
		return sha256.Sum256(append(buf[:0], token...))
	}
	return sha256.Sum256([]byte(token))
}

// System holds the system-wide settings. The JSON names are those of GET
// /info, which serves every field but EnableTwoFactor.
type System struct {
	WebDomain          string `json:"web_domain"`
	PrivateIPv4        string `json:"private_ipv4"`
	PublicIPv4         string `json:"public_ipv4"`
	EnableIPv6         bool   `json:"enable_ipv6"`
	PrivateIPv6        string `json:"private_ipv6"`
	PublicIPv6         string `json:"public_ipv6"`
	PrimaryDNSServer   string `json:"primary_dns_server"`
	SecondaryDNSServer string `json:"secondary_dns_server"`
	// EnableTwoFactor requires the email second factor of every system user.
	EnableTwoFactor bool `json:"-"`
}

// Tenant is one PBX tenant, found by its SIP domain.
type Tenant struct {
	ID        string
	Name      string
	Domain    string // unique, matched case-insensitively
	Website   string
	AvatarURL string
	// EnableTwoFactor requires the email second factor of every user of the tenant.
	EnableTwoFactor bool
	// MS365 holds the Microsoft Entra ID settings; nil when not configured.
	MS365 *MS365
}

// MS365 holds a tenant's Microsoft Entra ID application settings.
type MS365 struct {
	ApplicationID string // the client id
	DirectoryID   string // the Entra tenant id
	ClientSecret  string
	// ClientCertificate and ClientPrivateKey (PEM), when both are set,
	// replace ClientSecret: the token endpoint is called with a client
	// assertion signed by the key (private_key_jwt), as PortSIP does.
	ClientCertificate string
	ClientPrivateKey  string
	NationalCloud     string // "GLOBAL" (default) or "CHINA"
	Issuer            string // overrides the issuer derived from DirectoryID and NationalCloud
	// MatchPreferredUsername lets an account with no link yet match a user
	// by its preferred_username (the UPN) when it is a member of the
	// directory (acct 0). Off by default: Microsoft documents the claim as
	// mutable, so only verified emails match.
	MatchPreferredUsername bool
}

// Identity links an external account, known by its issuer and subject, to a
// user of one tenant. Links are per tenant: one directory may serve several
// tenants, and the same account may be linked in each.
type Identity struct {
	TenantID string
	Issuer   string
	Subject  string
	UserID   string
}

// User is an account. System users have an empty TenantID.
type User struct {
	ID                 string
	TenantID           string
	Username           string // unique within a tenant, matched case-insensitively
	Email              string
	Role               string
	PasswordHash       string // argon2id PHC string; empty means no password sign-in
	TwoFactorEnabled   bool
	PasswordForceReset bool
	Disabled           bool
	// Epoch is the user's sign-in epoch, which only the store moves: it
	// advances, in the same step, whenever the user's sign-ins are ended as
	// a whole or the password changes (ResetPassword, RevokeUser,
	// RevokeOtherFamilies, RevokeMethodFamilies, SetUserDisabled(true), an
	// UpdateUser that changes PasswordHash or disables). Whatever proves a credential reads
	// it before the check, and the sign-in or flow it then starts carries
	// it (Family.Epoch, Flow.Epoch): the store refuses it with ErrStale
	// when the epoch moved in between. CreateUser stores the given value;
	// UpdateUser never sets it.
	Epoch int64
}

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

// Counter is a small, expiring, shared counter used for throttling (failed
// sign-ins per account and per address, reset mails per user).
type Counter struct {
	Key         string // UTF-8 text without NUL
	Count       int
	Locks       int       // how many times the key has been locked
	LockedUntil time.Time // zero when not locked
	WindowStart time.Time
	ExpiresAt   time.Time // the store forgets the counter from then on
	// Version is the compare-and-swap guard of PutCounter; 0 for a counter
	// that does not exist yet.
	Version int64
}

// Store keeps everything pbxauth needs. All methods must be safe for
// concurrent use, also by several processes sharing one backend. Methods that
// take now decide expiry with it (a record is expired when now is not before
// its ExpiresAt), so callers control time. Records are returned by value;
// callers may not rely on a store keeping their slices or pointers.
//
// Error contract: ErrNotFound for missing, expired, consumed or revoked
// records; ErrConflict for unique-key collisions and lost compare-and-swaps;
// ErrInvalid, with nothing stored, for a record its Validate method refuses
// (Tenant, User, Family with its tokens, Token, Identity) and for a user of a
// tenant that does not exist; an error that wraps ErrUnavailable for an
// outage; any other error is a backend failure.
type Store interface {
	SignInStore
	UserFlagStore

	// System returns the system settings, or the zero System and a nil
	// error when none were stored.
	System(ctx context.Context) (System, error)
	// PutSystem replaces the system settings.
	PutSystem(ctx context.Context, s System) error

	// CreateTenant adds a tenant; ErrConflict when its ID or its domain
	// (case-insensitively) is taken.
	CreateTenant(ctx context.Context, t Tenant) error
	// UpdateTenant replaces the tenant with t.ID; ErrNotFound when there is
	// none, ErrConflict when the new domain is another tenant's.
	UpdateTenant(ctx context.Context, t Tenant) error
	// Tenant returns the tenant with the given ID, or ErrNotFound.
	Tenant(ctx context.Context, id string) (Tenant, error)
	// TenantByDomain finds a tenant by domain, case-insensitively, or ErrNotFound.
	TenantByDomain(ctx context.Context, domain string) (Tenant, error)

	// CreateUser adds a user; ErrConflict when its ID, or its username
	// within its tenant (case-insensitively), is taken.
	CreateUser(ctx context.Context, u User) error
	// UpdateUser replaces the user with u.ID, all but its Epoch, which
	// advances when the update changes PasswordHash or sets Disabled;
	// ErrNotFound when there is none, ErrConflict when the new username is
	// taken in the tenant.
	UpdateUser(ctx context.Context, u User) error
	// User returns the user with the given ID, or ErrNotFound.
	User(ctx context.Context, id string) (User, error)
	// UserByName finds a user of a tenant ("" for system users) by
	// username, case-insensitively, or ErrNotFound.
	UserByName(ctx context.Context, tenantID, username string) (User, error)
	// UsersByEmail lists the users of a tenant whose email equals email,
	// case-insensitively; an empty slice and nil error when none. Users
	// without an email never match.
	UsersByEmail(ctx context.Context, tenantID, email string) ([]User, error)
	// SwapPasswordHash sets the user's password hash to newHash only if it
	// is still oldHash (an upgrade of hashing parameters must not undo a
	// concurrent password change); ErrConflict if it changed, ErrNotFound
	// for an unknown user.
	SwapPasswordHash(ctx context.Context, userID, oldHash, newHash string) error
	// ResetPassword sets the password hash, clears PasswordForceReset,
	// advances the user's Epoch and revokes every token family of the
	// user, in one step; ErrNotFound for an unknown user.
	ResetPassword(ctx context.Context, userID, newHash string) error

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
	// not fill the grant's User.Epoch and Family.Epoch (no check reads
	// them), so that the bearer check reads no more than it needs.
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

	// Counter returns the counter with the given key, or a zero Counter
	// with that Key and Version 0 (and nil error) when it is missing or
	// expired at now.
	Counter(ctx context.Context, key string, now time.Time) (Counter, error)
	// PutCounter stores c if the stored version still equals c.Version (a
	// missing or expired counter has version 0), with Version+1;
	// ErrConflict otherwise.
	PutCounter(ctx context.Context, c Counter, now time.Time) error
	// DeleteCounter removes a counter; a missing one is not an error.
	DeleteCounter(ctx context.Context, key string) error
	// CounterAdder adds to a counter atomically (counteradder.go).
	CounterAdder

	// UnlinkUser removes every link of the user in the tenant; a user
	// without links is not an error.
	UnlinkUser(ctx context.Context, tenantID, userID string) error
	// LinkIdentity remembers that the external account (id.Issuer,
	// id.Subject) is the user id.UserID in the tenant id.TenantID.
	// ErrConflict when that account is linked in that tenant already, or
	// when the user has a link in that tenant already (to any account):
	// both are unique keys, so of two accounts racing to link one user
	// exactly one wins.
	LinkIdentity(ctx context.Context, id Identity) error
	// IdentityUser returns the user ID linked to (issuer, subject) in the
	// tenant, or ErrNotFound.
	IdentityUser(ctx context.Context, tenantID, issuer, subject string) (string, error)

	// DeviceStore keeps known devices (devicestore.go).
	DeviceStore
	// UseOnceStore makes sealed states single-use (store_useonce.go).
	UseOnceStore
}

// Sweeper is implemented by stores that can delete expired records (tokens
// and families past their life, flows, counters, devices). Expired records are already
// invisible through Store; sweeping only reclaims space.
type Sweeper interface {
	// DeleteExpired deletes what is expired at now (by the rule of Store)
	// and says how many records went; the count is informational. Records
	// that are still needed to refuse something (a rotated refresh token of
	// a live family) are kept. Revoked families go with their tokens,
	// whatever their life. Grace seeds are erased from their GraceUntil.
	DeleteExpired(ctx context.Context, now time.Time) (int64, error)
}
