// This file holds Store, the whole contract: every capability a store keeps,
// each defined in a file of its own.

package store

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
	// DirectoryStore keeps the system settings, tenants and users
	// (directory.go).
	DirectoryStore
	// UserFlagStore sets one flag of a user (userflags.go).
	UserFlagStore
	// TokenStore keeps sign-ins and their tokens (tokens.go).
	TokenStore
	// SignInStore lists, touches and ends a user's sign-ins (signins.go).
	SignInStore
	// FlowStore keeps single-use flow steps (flows.go).
	FlowStore
	// CounterStore and CounterAdder keep the counters of limits
	// (counters.go).
	CounterStore
	CounterAdder
	// IdentityStore links external accounts to users (identities.go).
	IdentityStore
	// DeviceStore keeps known devices (devices.go).
	DeviceStore
	// UseOnceStore makes sealed states single-use (useonce.go).
	UseOnceStore
}
