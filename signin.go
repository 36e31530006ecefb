// This file holds the password check shared by POST /auth/sign_in and
// POST /login: validation, throttling, the constant-cost lookup and hash, and
// the hash upgrade.

package pbxauth

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// authenticate checks submitted credentials and returns the user they prove,
// with the known device they came through, if any. Every failure that could
// tell whether an account exists — unknown domain, unknown user, no
// password, disabled, wrong password — is the same 401 after the same one
// argon2id hash.
//
// The limits (throttle.go): a locked address is refused first; then the
// attempt takes a slot of its key — the submitted account's, or the known
// device's own — before hashing, so however many requests race, at most
// Limits.PasswordAttempts passwords are checked per key and lock cycle.
func (a *Auth) authenticate(r *http.Request, c credentials, qr bool) (store.User, *store.Device, *apiError) {
	ctx := r.Context()
	tenant := c.Domain != ""
	if e := checkUsername(c.Username, tenant); e != nil {
		return store.User{}, nil, e
	}
	if e := checkDomain(c.Domain, false); e != nil {
		return store.User{}, nil, e
	}
	if e := checkPasswordField("password", c.Password); e != nil {
		return store.User{}, nil, e
	}
	now := a.now()
	ip, addr := a.clientIP(r), a.addressKey(r)
	ev := Event{Kind: EventSignInFailed, Username: c.Username, ClientIP: ip, Method: "password", QR: qr}
	refused := func(e *apiError) (store.User, *store.Device, *apiError) {
		if e.status == http.StatusTooManyRequests {
			a.emit(ctx, ev)
		}
		return store.User{}, nil, e
	}
	if e := a.addressLocked(ctx, addr, now); e != nil {
		return refused(e)
	}
	u, err := a.lookupUser(ctx, c.Domain, c.Username)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.User{}, nil, a.internal(ctx, "look up user", err)
	}
	dev, known := a.knownDevice(ctx, r, u.ID, now)
	key := accountKey(c.Domain, c.Username)
	if known {
		key = deviceKey(dev)
	}
	// Every limit is read before any is counted, so a refusal writes nothing.
	t, e := a.readAttempt(ctx, a.cfg.Limits.passwordLock(), key, now)
	if e != nil {
		return refused(e)
	}
	if known {
		if _, e := a.rate(ctx, "device-signins:"+key, a.cfg.Limits.DeviceSignIns, time.Minute, now); e != nil {
			return refused(e)
		}
	}
	if e := t.take(ctx, now); e != nil {
		return refused(e)
	}
	ln := deviceLane(dev, known)
	ok, upgrade, err := a.hasher.Verify(ctx, ln.lane, ln.key, u.PasswordHash, c.Password)
	if err != nil {
		// The hashing queue is full, or the client went away while
		// queued: nothing was checked, so the slot goes back.
		t.refund(ctx)
		return store.User{}, nil, errBusy
	}
	ev.UserID, ev.TenantID = u.ID, u.TenantID
	if !ok || u.Disabled {
		lock, _, err := t.fail(ctx, now)
		if err == nil {
			err = a.addressFailed(ctx, addr, now)
		}
		if err != nil {
			return store.User{}, nil, a.internal(ctx, "record failed sign-in", err)
		}
		a.emit(ctx, ev)
		if lock > 0 {
			ev.Kind = EventLockout
			a.emit(ctx, ev)
		}
		return store.User{}, nil, errUnauthorized
	}
	if err := t.succeed(ctx, now); err != nil {
		return store.User{}, nil, a.internal(ctx, "reset sign-in lock", err)
	}
	if upgrade {
		u.PasswordHash = a.upgradeHash(r, ln, u, c.Password)
	}
	// The sign-in is reported once issued (reportSignIn), or as
	// EventSecondFactorRequired when it still needs a code.
	if !known {
		return u, nil, nil
	}
	return u, &dev, nil
}

// lookupUser finds the user named by domain ("" for system users) and
// username; a missing tenant or user is ErrNotFound with a zero User, whose
// empty hash makes verify use the dummy.
func (a *Auth) lookupUser(ctx context.Context, domain, username string) (store.User, error) {
	tenantID := ""
	if domain != "" {
		t, err := a.store().TenantByDomain(ctx, domain)
		if err != nil {
			return store.User{}, err
		}
		tenantID = t.ID
	}
	return a.store().UserByName(ctx, tenantID, username)
}

// upgradeHash rehashes a correct password made with weaker parameters and
// returns the hash now stored. It is best effort: a failure leaves the old,
// still valid hash in place.
func (a *Auth) upgradeHash(r *http.Request, ln lane, u store.User, password string) string {
	ctx := r.Context()
	h, err := a.hasher.Hash(ctx, ln.lane, ln.key, password)
	if err == nil {
		err = a.store().SwapPasswordHash(ctx, u.ID, u.PasswordHash, h)
	}
	if err == nil {
		return h
	}
	if !errors.Is(err, store.ErrConflict) {
		a.log.WarnContext(ctx, "pbxauth: password hash upgrade failed", "user", u.ID, "err", err)
	}
	return u.PasswordHash
}
