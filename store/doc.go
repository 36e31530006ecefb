// Package store is the contract between pbxauth and the storage under it,
// written for storage authors, the way database/sql/driver is written for
// driver authors. A host never needs it: it picks a store (memstore,
// sqlstore/sqlite, sqlstore/postgres, or its own) and hands it to
// pbxauth.Config.
//
// [Store] is composed of small capabilities, each in a file of its own with
// its records, its error contract and its rules: [DirectoryStore] (system,
// tenants, users), [UserFlagStore], [TokenStore] (sign-ins and their
// tokens), [SignInStore] (listing and ending sign-ins), [FlowStore],
// [CounterStore] and [CounterAdder], [IdentityStore], [DeviceStore] and
// [UseOnceStore]. Optional capabilities are found by type assertion:
// [Outbox] with [OutboxReporter], [TOTPStore], [PasskeyStore], [Sweeper],
// [DirectoryLister], [PasswordPolicyStore], [MS365CredentialStore] and
// [MicrosoftBindingStore]. Every shipped store implements all of them, and
// package storetest checks any store against the whole contract:
//
//	func TestMyStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) (a, b store.Store) {
//			db := freshDatabase(t)
//			return open(db), open(db) // two handles on one backend
//		})
//	}
//
// # Errors
//
// Missing, expired, consumed or revoked records are [ErrNotFound]; unique
// keys taken and lost compare-and-swaps are [ErrConflict]; a condition the
// caller read that no longer holds (the user's sign-in epoch moved) is
// [ErrStale]; a record its Validate method refuses is [ErrInvalid], with
// nothing stored; an outage is an error wrapping [ErrUnavailable]. Any other
// error is a backend failure: pbxauth answers 500 and issues nothing.
//
// # Time
//
// Methods that take now decide expiry with it (a record is expired when now
// is not before its ExpiresAt), so callers control time and tests never
// sleep.
//
// # Atomicity
//
// Every method is safe for concurrent use, also by several processes that
// share one backend. These steps must be atomic across processes, and
// storetest proves each with two handles on one backend:
//
//	step                                 method                          of concurrent callers
//	epoch-checked insert                 TokenStore.CreateFamily,        none stored once the user's Epoch moved
//	                                     FlowStore.CreateFlow,           (ErrStale); an ender never misses one;
//	                                     PasskeyStore.AddPasskey         a passkey also needs its bearer's sign-in
//	                                                                     live, a sign-in made with a passkey that
//	                                                                     passkey still there and enabled
//	ending a user's sign-ins             DirectoryStore.ResetPassword,   the Epoch advances in the same step as
//	                                     TokenStore.RevokeUser,          the revocation (and, with a new
//	                                     UserFlagStore.SetUserDisabled,  password, the hash, the force-reset
//	                                     SignInStore.RevokeOtherFamilies, flag, the deletion of devices and of
//	                                     PasskeyStore.ResetPasskeys,     the passkeys: none added in a race
//	                                     PasskeyStore.ResetPasswordPasskeys with a reset survives it)
//	a change through a sign-in           DirectoryStore.ChangePassword   exactly one of those under one Epoch
//	                                                                     stores; none once the sign-in ended
//	ending a passkey's sign-ins          PasskeyStore.DeletePasskey      the sign-ins made with it end with it
//	unique credential IDs, per-user      PasskeyStore.AddPasskey         one user holds a credential ID (others
//	limit                                                                ErrConflict); never more than max
//	                                                                     passkeys a user (others ErrLimit)
//	forward-only sign counts             PasskeyStore.UsePasskey         of uses with one non-zero count exactly
//	                                                                     one succeeds; the others ErrStale
//	first WebAuthn handle                PasskeyStore.WebAuthnHandle     one handle stored; all get it
//	eviction with the insert             TokenStore.CreateFamily         never more than maxLive live sign-ins
//	refresh rotation                     TokenStore.RotateRefresh        exactly one rotates; the others get
//	                                                                     ErrTokenReused
//	single-use consumption               FlowStore.ConsumeFlow,          exactly one gets the record
//	                                     TOTPStore (codes, steps)
//	versioned update                     FlowStore.UpdateFlow,           exactly one wins; the others ErrConflict
//	                                     CounterStore.PutCounter,
//	                                     PasswordPolicyStore.PutPasswordPolicy,
//	                                     MS365CredentialStore.ReplaceMS365Current
//	conditional counters                 CounterAdder.AddCounterBelow    never past the limit; none lost
//	use once                             UseOnceStore.UseOnce            exactly one returns nil
//	unique links                         IdentityStore.LinkIdentity      exactly one link per account and per user
//	unique bindings                      MicrosoftBindingStore.          exactly one user per key and tenant; the
//	                                     BindMicrosoft, LinkUnbound      user's links go in the same step, and no
//	                                                                     link by email outlives a binding
//	outbox leases                        Outbox.ClaimMail                one worker holds a mail at a time
package store
