// This file is "Operating it from Go": the methods of Auth that hosts and
// admin tools call to create and change users and end their sign-ins. Each
// validates its arguments exactly as the API does and reports an event.

package pbxauth

import (
	"context"
	"errors"
	"fmt"
	"net/mail"

	"github.com/pbxauth/pbxauth/store"
)

// Events of the Go API. Each carries UserID, TenantID and Username of the
// user concerned, and no ClientIP or RequestID unless the host's ctx is a
// request's.
const (
	// EventUserCreated: [Auth.CreateUser] created the user.
	EventUserCreated EventKind = "user_created"
	// EventPasswordSet: [Auth.SetPassword] set the user's password.
	EventPasswordSet EventKind = "password_set"
	// EventUserDisabled: [Auth.DisableUser] disabled the user.
	EventUserDisabled EventKind = "user_disabled"
	// EventUserEnabled: [Auth.EnableUser] enabled the user again.
	EventUserEnabled EventKind = "user_enabled"
	// EventAccountUnlocked: [Auth.Unlock] lifted the locks of a submitted
	// (domain, username); UserID and TenantID only when such a user exists.
	EventAccountUnlocked EventKind = "account_unlocked"
	// EventIdentitiesUnlinked: [Auth.UnlinkIdentities] unlinked the user's
	// Microsoft accounts.
	EventIdentitiesUnlinked EventKind = "identities_unlinked"
)

// maxEmail is the longest address a mailbox can have (RFC 5321 path limit).
const maxEmail = 254

// NewUser describes a user for [Auth.CreateUser].
type NewUser struct {
	// Domain is the SIP domain of the user's tenant; "" makes a system user.
	Domain   string
	Username string
	// Password is checked against the password policy and hashed; "" makes
	// a user who cannot sign in with a password (Microsoft only).
	Password string
	Email    string // optional; where codes and reset links go
	// Role is a built-in role (RoleSystemAdmin, RoleReplicator or
	// RoleDealer for a system user; RoleAdmin, RoleStandardUser,
	// RoleStandardInternationalUser or RoleQueueManager for a tenant user)
	// or, for a tenant user, one of Config.Roles.
	Role               string
	TwoFactorEnabled   bool
	PasswordForceReset bool
	Disabled           bool
	// SkipTenantPolicy applies pbxauth's own password rules only, not the
	// tenant's password policy: for passwords an operator chose (the seed
	// file, a command-line tool), never for a user's own choice.
	SkipTenantPolicy bool
}

// apiErr turns a validation failure of the API into the Go API's error.
func apiErr(e *apiError) error {
	if e == nil {
		return nil
	}
	return invalidf("%s", e.message)
}

// tenantOf returns the ID of the tenant of domain ("" for the system);
// an unknown domain is ErrInvalid.
func (a *Auth) tenantOf(ctx context.Context, domain string) (string, error) {
	if err := apiErr(checkDomain(domain, false)); err != nil || domain == "" {
		return "", err
	}
	t, err := a.store().TenantByDomain(ctx, domain)
	if errors.Is(err, store.ErrNotFound) {
		return "", invalidf("no tenant has the domain %q", domain)
	}
	return t.ID, err
}

// CreateUser validates nu as the API validates its fields — username rules,
// reserved names (system users only), the role, the tenant's existence, the
// password rules (Config.PasswordPolicy included, and the tenant's password
// policy unless nu.SkipTenantPolicy), a well-formed email —
// stores the user with a new ID and a hash of the password, and reports
// EventUserCreated. Errors wrap ErrInvalid for a rule broken (the text says
// which), ErrConflict when the username is taken in the tenant
// (case-insensitively), or are backend failures.
func (a *Auth) CreateUser(ctx context.Context, nu NewUser) (store.User, error) {
	tenantID, err := a.tenantOf(ctx, nu.Domain)
	if err != nil {
		return store.User{}, err
	}
	tenant := nu.Domain != ""
	if err := apiErr(checkUsername(nu.Username, tenant)); err != nil {
		return store.User{}, err
	}
	if err := apiErr(a.checkRole(nu.Role, tenant)); err != nil {
		return store.User{}, err
	}
	if err := checkEmail(nu.Email); err != nil {
		return store.User{}, err
	}
	u := store.User{ID: newID(), TenantID: tenantID, Username: nu.Username, Email: nu.Email, Role: nu.Role,
		TwoFactorEnabled: nu.TwoFactorEnabled, PasswordForceReset: nu.PasswordForceReset, Disabled: nu.Disabled}
	if nu.Password != "" {
		if err := a.newPasswordError(ctx, u, "password", nu.Password, !nu.SkipTenantPolicy); err != nil {
			return store.User{}, err
		}
		if u.PasswordHash, err = a.HashPassword(ctx, nu.Password); err != nil {
			return store.User{}, err
		}
	}
	if err := a.store().CreateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return store.User{}, fmt.Errorf("%w: the username %q is taken", store.ErrConflict, nu.Username)
		}
		return store.User{}, err
	}
	a.emit(ctx, Event{Kind: EventUserCreated, UserID: u.ID, TenantID: u.TenantID, Username: u.Username})
	return u, nil
}

// checkEmail accepts "" or one plain address (no name, no angle brackets).
func checkEmail(s string) error {
	if s == "" {
		return nil
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" || len(s) > maxEmail {
		return invalidf("email must be one plain address of at most 254 bytes")
	}
	return nil
}

// FindUser returns the user of the tenant of domain ("" for system users)
// with username, matched case-insensitively; ErrNotFound when there is none
// (also for an unknown domain), ErrInvalid for a malformed name.
func (a *Auth) FindUser(ctx context.Context, domain, username string) (store.User, error) {
	if err := apiErr(checkDomain(domain, false)); err != nil {
		return store.User{}, err
	}
	if !store.ValidUsername(username) {
		return store.User{}, apiErr(checkUsername(username, false))
	}
	return a.lookupUser(ctx, domain, username)
}

// SetPassword gives the user a new password, checked against the password
// policy like reset_password's, and clears PasswordForceReset unless
// forceReset sets it again (the user must then change it). Every sign-in of
// the user ends, each reported as EventSessionRevoked, then EventPasswordSet.
// ErrNotFound for an unknown user; ErrInvalid for a password the policy
// refuses, with nothing changed.
func (a *Auth) SetPassword(ctx context.Context, userID, password string, forceReset bool) error {
	u, err := a.store().User(ctx, userID)
	if err != nil {
		return err
	}
	if err := a.newPasswordError(ctx, u, "password", password, true); err != nil {
		return err
	}
	hash, err := a.HashPassword(ctx, password)
	if err != nil {
		return err
	}
	return a.setPassword(ctx, u, hash, forceReset, origin{}, "")
}

// setPassword gives u the password of hash for SetPassword and POST
// /users/{id}/password: every sign-in ends (each reported, from o), the
// known devices are forgotten, PasswordForceReset is set as forceReset
// says, the user is mailed (notice, if any, with what the reset did to
// passkeys: storeResetPassword) and EventPasswordSet is reported.
func (a *Auth) setPassword(ctx context.Context, u store.User, hash string, forceReset bool, o origin, notice string) error {
	// Ending the sign-ins first reports each; ResetPassword then sets the
	// hash and the flag, revokes any sign-in made in between and deletes
	// the devices (and the passkeys of the last 7 days), in one step: no
	// reader sees the new password without the flag, nor a device that
	// knew the old one.
	if _, err := a.endSignIns(ctx, u.ID, u.TenantID, "", o); err != nil {
		return err
	}
	if err := a.storeResetPassword(ctx, u, hash, forceReset, o.ip, notice); err != nil {
		return err
	}
	a.emit(ctx, Event{Kind: EventPasswordSet, UserID: u.ID, TenantID: u.TenantID, Username: u.Username, ClientIP: o.ip})
	return nil
}

// DisableUser disables the user: password and Microsoft sign-ins are
// refused like a wrong password, and every sign-in ends (each reported as
// EventSessionRevoked), so that enabling the user again revives none of
// them. Reports EventUserDisabled; ErrNotFound for an unknown user.
func (a *Auth) DisableUser(ctx context.Context, userID string) error {
	u, err := a.store().User(ctx, userID)
	if err != nil {
		return err
	}
	if err := a.store().SetUserDisabled(ctx, u.ID, true); err != nil {
		return err
	}
	if _, err := a.endSignIns(ctx, u.ID, u.TenantID, "", origin{}); err != nil {
		return err
	}
	if err := a.forgetDevices(ctx, u.ID); err != nil {
		return err
	}
	a.emit(ctx, Event{Kind: EventUserDisabled, UserID: u.ID, TenantID: u.TenantID, Username: u.Username})
	return nil
}

// EnableUser lets a disabled user sign in again and reports
// EventUserEnabled; ErrNotFound for an unknown user.
func (a *Auth) EnableUser(ctx context.Context, userID string) error {
	u, err := a.store().User(ctx, userID)
	if err != nil {
		return err
	}
	if err := a.store().SetUserDisabled(ctx, u.ID, false); err != nil {
		return err
	}
	a.emit(ctx, Event{Kind: EventUserEnabled, UserID: u.ID, TenantID: u.TenantID, Username: u.Username})
	return nil
}

// Sessions returns the user's live sign-ins, newest first, as GET
// /auth/sessions lists them; ErrNotFound for an unknown user.
func (a *Auth) Sessions(ctx context.Context, userID string) ([]store.Family, error) {
	if _, err := a.store().User(ctx, userID); err != nil {
		return nil, err
	}
	return a.store().Families(ctx, userID, a.now())
}

// RevokeSession ends the user's live sign-in sessionID (a Family.ID from
// [Auth.Sessions]): its access and refresh tokens and its cookie session are
// refused at once. Reports EventSessionRevoked; ErrNotFound when the
// sign-in is not the user's, or not live.
func (a *Auth) RevokeSession(ctx context.Context, userID, sessionID string) error {
	u, err := a.store().User(ctx, userID)
	if err != nil {
		return err
	}
	return a.revokeUserFamily(ctx, u.ID, u.TenantID, sessionID, origin{})
}

// SignOutEverywhere ends every sign-in of the user, cookie sessions
// included, as POST /auth/sign_out?scope=global does, and returns how many
// it ended (each reported as EventSessionRevoked); ErrNotFound for an
// unknown user.
func (a *Auth) SignOutEverywhere(ctx context.Context, userID string) (int, error) {
	u, err := a.store().User(ctx, userID)
	if err != nil {
		return 0, err
	}
	if err := a.forgetDevices(ctx, u.ID); err != nil {
		return 0, err
	}
	return a.endSignIns(ctx, u.ID, u.TenantID, "", origin{})
}

// Unlock lifts the sign-in lock of a submitted (domain, username) — the
// key failed passwords count against, whether or not such a user exists —
// and reports EventAccountUnlocked. ErrInvalid for a malformed domain or
// username (no sign-in could have counted against it).
func (a *Auth) Unlock(ctx context.Context, domain, username string) error {
	if err := apiErr(checkDomain(domain, false)); err != nil {
		return err
	}
	if err := apiErr(checkUsername(username, domain != "")); err != nil {
		return err
	}
	e := Event{Kind: EventAccountUnlocked, Username: username}
	u, err := a.FindUser(ctx, domain, username)
	if err == nil {
		e.UserID, e.TenantID = u.ID, u.TenantID
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	// The submitted key's lock, and for an existing user the lock of the
	// second factor (also one that stays until an unlock) and the devices,
	// whose locks cannot be listed one by one.
	if err := a.clearLimits(ctx, domain, username, u.ID); err != nil {
		return err
	}
	a.emit(ctx, e)
	return nil
}

// UnlinkIdentities removes every Microsoft account linked to the user, so
// that the next Microsoft sign-in matches by verified email again (and a
// stolen account linked to the user is cut off), ends the user's sign-ins
// made through Microsoft (each reported as EventSessionRevoked; in flight
// too, as the epoch moves), and reports EventIdentitiesUnlinked;
// ErrNotFound for an unknown user. The user's other sign-ins are carried
// over: end them with SignOutEverywhere.
func (a *Auth) UnlinkIdentities(ctx context.Context, userID string) error {
	u, err := a.store().User(ctx, userID)
	if err != nil {
		return err
	}
	if err := a.store().UnlinkUser(ctx, u.TenantID, u.ID); err != nil {
		return err
	}
	// After the links: a Microsoft sign-in that resolved the user through
	// one meanwhile ends here, or is refused for the moved epoch.
	if err := a.endMicrosoftSignIns(ctx, u.ID, u.TenantID, origin{}); err != nil {
		return err
	}
	a.emit(ctx, Event{Kind: EventIdentitiesUnlinked, UserID: u.ID, TenantID: u.TenantID, Username: u.Username})
	return nil
}

// ResetTOTP removes the user's authenticator app (pending or active) and
// recovery codes, for a user who lost the phone and the codes, ends every
// sign-in of the user (each reported as EventSessionRevoked; known devices
// are kept), and lifts the lock of their second factor; the next sign-in
// asks for the emailed code again where one is required. Reports
// EventAppDisabled; ErrNotFound for an unknown user. A store without
// authenticator apps has no app to remove.
func (a *Auth) ResetTOTP(ctx context.Context, userID string) error {
	u, err := a.store().User(ctx, userID)
	if err != nil {
		return err
	}
	if ts := a.appStore(); ts != nil {
		if err := ts.DeleteTOTP(ctx, u.ID); err != nil {
			return err
		}
	}
	// The app first: a sign-in its codes complete meanwhile ends here too,
	// in flight as well (the epoch moves).
	if _, err := a.endSignIns(ctx, u.ID, u.TenantID, "", origin{}); err != nil {
		return err
	}
	if err := a.resetLock(ctx, a.cfg.Limits.codeLock(), userKey(u.ID), a.now()); err != nil {
		return err
	}
	a.emit(ctx, Event{Kind: EventAppDisabled, UserID: u.ID, TenantID: u.TenantID, Username: u.Username})
	return nil
}
