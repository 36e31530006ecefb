// This file holds Config.Limits: every threshold of the brute-force and
// abuse protection in one struct, with its defaults (DESIGN.md "Limits").

package pbxauth

import "time"

// Limits sets the brute-force and abuse limits. Counters live in the Store,
// so every instance sharing it shares every limit. The zero value of a
// field means the default written beside it; every 429 carries Retry-After.
type Limits struct {
	// PasswordAttempts is how many passwords are checked per submitted
	// (domain, username) — or per known device — in one lock cycle,
	// whatever the parallelism: each attempt takes a slot before hashing;
	// with every slot taken the answer is 429 without hashing. A failure
	// keeps its slot, a success frees them all, and this many failures
	// lock the key. Default 5.
	PasswordAttempts int
	// PasswordLock is how long the first such lock lasts; each further
	// lock doubles it, up to PasswordLockMax. Defaults 1 minute and 30
	// minutes. A correct password during a lock is 429 too (except
	// through a known device, which has a key of its own).
	PasswordLock, PasswordLockMax time.Duration
	// PasswordMemory is how long an account key remembers its failures
	// and locks after the last attempt. Default 24 hours.
	PasswordMemory time.Duration

	// AddressFailures failed sign-ins from one client address within
	// AddressWindow lock that address for AddressLock, for every account.
	// Defaults 100, 15 minutes, 15 minutes.
	AddressFailures            int
	AddressWindow, AddressLock time.Duration
	// IPv6Prefix is the prefix length by which IPv6 client addresses are
	// grouped into one address for every per-address limit (an attacker
	// usually holds a whole /64). IPv4-mapped IPv6 addresses count as
	// IPv4. Default 64.
	IPv6Prefix int

	// CodeAttempts is how many one-time codes are checked per user
	// (across flows; per known device for flows begun through one) in one
	// lock cycle; this many consecutive wrong codes lock the user's second
	// factor for CodeLock, doubling per further lock up to CodeLockMax.
	// While locked, verify_otp and send_otp answer 429, also for a
	// correct code; a correct code resets. The user is mailed at the
	// first lock. Defaults 10, 15 minutes, 24 hours.
	CodeAttempts          int
	CodeLock, CodeLockMax time.Duration
	// CodeFailuresForever consecutive wrong codes lock the second factor
	// until [Auth] clears it (an unlock). Default 100.
	CodeFailuresForever int
	// CodeMemory is how long wrong codes are remembered after the last
	// one. Default 30 days, longer than the locks before CodeFailuresForever.
	CodeMemory time.Duration
	// FlowCodeAttempts wrong codes end a second-factor flow (the user signs
	// in again). Default 5.
	FlowCodeAttempts int
	// CodeMails is how many second-factor mails a user gets per
	// CodeMailWindow, across flows (429 beyond). Defaults 10 and 1 hour.
	CodeMails      int
	CodeMailWindow time.Duration

	// FlowStarts is how many requests that create a flow without
	// credentials (POST /auth/sign_in/{provider}, POST /login/by_microsoft,
	// POST /auth/forget_password) one client address may make per
	// FlowStartWindow; beyond, 429. Defaults 20 and 1 minute. The
	// Microsoft starts that store nothing (with Config.EncryptionKeys) are
	// counted in each instance's memory instead of the Store, so behind N
	// instances an address may make up to N times as many of them.
	FlowStarts      int
	FlowStartWindow time.Duration
	// PendingStates bounds the live Microsoft sign-in states in all
	// (started, not yet back from the IdP) when they are stored, that is
	// without Config.EncryptionKeys; beyond, 503. No client network (IPv4
	// /24, IPv6 /48) holds more than 1% of it (at least 1); beyond, 429.
	// Default 50,000.
	PendingStates int
	// CallbackURLBytes is the longest callback_url accepted (400 beyond).
	// Default 2,048.
	CallbackURLBytes int

	// RecentAuth is how young a sign-in must be — since its last factor
	// (the password, the second factor that completed it, a Microsoft
	// account or a passkey) was proved — to change the second factor
	// (enrol, disable or replace an authenticator app's recovery codes;
	// register or remove a passkey); older ones get 403
	// insufficient_scope. Default 10 minutes.
	RecentAuth time.Duration

	// DevicesPerUser is how many known devices a user keeps; a new one
	// evicts the least recently used. Default 10.
	DevicesPerUser int
	// DeviceLifetime is how long a known device lives after its last
	// sign-in, and the life of its cookie. Default 400 days.
	DeviceLifetime time.Duration
	// DeviceSignIns is how many sign-ins one known device may make per
	// minute (429 beyond). Default 10.
	DeviceSignIns int

	// PasskeysPerUser is how many passkeys one user may have (disabled
	// ones count); registering one more is 400. Default 10.
	PasskeysPerUser int
	// PasskeyStarts is how many passkey sign-ins (POST
	// /auth/sign_in/passkey/options) one client address may start per
	// FlowStartWindow, counted in this instance's memory (the starts store
	// nothing); beyond, 429. Pages with passkey autofill ask on every
	// load, often many behind one office's address. Default 300.
	PasskeyStarts int

	// SignInsPerUser is how many live sign-ins (token families, cookie
	// sessions included) one user may have: a new one beyond it ends the
	// least recently used, reported as EventSessionRevoked with Reason
	// ReasonEvicted, so neither the list of sessions nor the Store grows
	// without bound. Default 100.
	SignInsPerUser int
}

// withDefaults fills the zero fields of l.
func (l Limits) withDefaults() Limits {
	set := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	setD := func(p *time.Duration, v time.Duration) {
		if *p <= 0 {
			*p = v
		}
	}
	set(&l.PasswordAttempts, 5)
	setD(&l.PasswordLock, time.Minute)
	setD(&l.PasswordLockMax, 30*time.Minute)
	setD(&l.PasswordMemory, 24*time.Hour)
	set(&l.AddressFailures, 100)
	setD(&l.AddressWindow, 15*time.Minute)
	setD(&l.AddressLock, 15*time.Minute)
	set(&l.IPv6Prefix, 64)
	l.IPv6Prefix = min(l.IPv6Prefix, 128)
	set(&l.CodeAttempts, 10)
	setD(&l.CodeLock, 15*time.Minute)
	setD(&l.CodeLockMax, 24*time.Hour)
	set(&l.CodeFailuresForever, 100)
	setD(&l.CodeMemory, 30*24*time.Hour)
	set(&l.FlowCodeAttempts, 5)
	set(&l.CodeMails, 10)
	setD(&l.CodeMailWindow, time.Hour)
	set(&l.FlowStarts, 20)
	setD(&l.FlowStartWindow, time.Minute)
	set(&l.PendingStates, 50000)
	set(&l.CallbackURLBytes, 2048)
	setD(&l.RecentAuth, 10*time.Minute)
	set(&l.DevicesPerUser, 10)
	setD(&l.DeviceLifetime, 400*24*time.Hour)
	set(&l.DeviceSignIns, 10)
	set(&l.SignInsPerUser, 100)
	set(&l.PasskeysPerUser, 10)
	set(&l.PasskeyStarts, 300)
	return l
}

// passwordLock is the lock of password attempts per account key and per
// known device; codeLock that of one-time codes per user or device.
func (l Limits) passwordLock() lockPolicy {
	return lockPolicy{name: "signin", attempts: l.PasswordAttempts, first: l.PasswordLock, longest: l.PasswordLockMax, memory: l.PasswordMemory}
}

func (l Limits) codeLock() lockPolicy {
	return lockPolicy{name: "code", attempts: l.CodeAttempts, first: l.CodeLock, longest: l.CodeLockMax, memory: l.CodeMemory, forever: l.CodeFailuresForever}
}
