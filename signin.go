// This file holds the password check shared by POST /auth/sign_in and
// POST /login: validation, throttling, the constant-cost lookup and hash, and
// the hash upgrade.

package pbxauth

import (
	"context"
	"errors"
	"net/http"
)

// authenticate checks submitted credentials and returns the user they prove.
// Every failure that could tell whether an account exists — unknown domain,
// unknown user, no password, disabled, wrong password — is the same 401
// after the same one argon2id hash.
func (a *Auth) authenticate(r *http.Request, c credentials, qr bool) (User, *apiError) {
	ctx := r.Context()
	tenant := c.Domain != ""
	if e := checkUsername(c.Username, tenant); e != nil {
		return User{}, e
	}
	if e := checkDomain(c.Domain, false); e != nil {
		return User{}, e
	}
	if e := checkPasswordField("password", c.Password); e != nil {
		return User{}, e
	}
	now := a.now()
	ip := a.clientIP(r)
	acct := accountKey(c.Domain, c.Username)
	if e := a.checkThrottle(ctx, acct, ip, now); e != nil {
		if e.status == http.StatusTooManyRequests {
			a.emit(ctx, Event{Kind: EventSignInFailed, Username: c.Username, ClientIP: ip, Method: "password", QR: qr})
		}
		return User{}, e
	}

	u, err := a.lookupUser(ctx, c.Domain, c.Username)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return User{}, a.internal(ctx, "look up user", err)
	}
	ok, upgrade, err := a.hasher.verify(ctx, u.PasswordHash, c.Password)
	if errors.Is(err, errHashBusy) {
		return User{}, errBusy
	}
	if err != nil {
		return User{}, errBusy // the client went away while queued
	}
	if !ok || u.Disabled {
		locked, err := a.recordFailure(ctx, acct, ip, now)
		if err != nil {
			return User{}, a.internal(ctx, "record failed sign-in", err)
		}
		a.emit(ctx, Event{Kind: EventSignInFailed, UserID: u.ID, TenantID: u.TenantID, Username: c.Username, ClientIP: ip, Method: "password", QR: qr})
		if locked {
			a.emit(ctx, Event{Kind: EventLockout, UserID: u.ID, TenantID: u.TenantID, Username: c.Username, ClientIP: ip, Method: "password", QR: qr})
		}
		return User{}, errUnauthorized
	}
	if err := a.recordSuccess(ctx, acct); err != nil {
		return User{}, a.internal(ctx, "reset throttle counter", err)
	}
	if upgrade {
		u.PasswordHash = a.upgradeHash(r, u, c.Password)
	}
	a.emit(ctx, Event{Kind: EventSignIn, UserID: u.ID, TenantID: u.TenantID, Username: u.Username, ClientIP: ip, Method: "password", QR: qr})
	return u, nil
}

// lookupUser finds the user named by domain ("" for system users) and
// username; a missing tenant or user is ErrNotFound with a zero User, whose
// empty hash makes verify use the dummy.
func (a *Auth) lookupUser(ctx context.Context, domain, username string) (User, error) {
	tenantID := ""
	if domain != "" {
		t, err := a.store.TenantByDomain(ctx, domain)
		if err != nil {
			return User{}, err
		}
		tenantID = t.ID
	}
	return a.store.UserByName(ctx, tenantID, username)
}

// upgradeHash rehashes a correct password made with weaker parameters and
// returns the hash now stored. It is best effort: a failure leaves the old,
// still valid hash in place.
func (a *Auth) upgradeHash(r *http.Request, u User, password string) string {
	ctx := r.Context()
	h, err := a.hasher.hash(ctx, password)
	if err == nil {
		err = a.store.SwapPasswordHash(ctx, u.ID, u.PasswordHash, h)
	}
	if err == nil {
		return h
	}
	if !errors.Is(err, ErrConflict) {
		a.log.WarnContext(ctx, "pbxauth: password hash upgrade failed", "user", u.ID, "err", err)
	}
	return u.PasswordHash
}
