// This file holds known devices (OWASP "device cookies"): a sign-in that
// proved the password and issues tokens or a session leaves a cookie with a
// random token, whose hash the Store keeps with the user. A later sign-in
// that presents it for the same account has a lock key of its own (so an
// attacker's failures elsewhere do not lock it out) and a favoured hashing
// lane.

package pbxauth

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/pbxauth/pbxauth/internal/hasher"
	"github.com/pbxauth/pbxauth/store"
)

// DeviceCookieName is the device cookie; with Secure cookies it carries the
// "__Host-" prefix, so that no sibling subdomain can set or shadow it.
const DeviceCookieName = "pbxauth_device"

func (a *Auth) deviceCookieName() string {
	if a.cfg.InsecureCookies {
		return DeviceCookieName
	}
	return "__Host-" + DeviceCookieName
}

// knownDevice returns the device whose cookie came with r, if it is a live
// device of userID ("" for an unknown user: never a device).
func (a *Auth) knownDevice(ctx context.Context, r *http.Request, userID string, now time.Time) (store.Device, bool) {
	c, err := r.Cookie(a.deviceCookieName())
	if err != nil || userID == "" || c.Value == "" || len(c.Value) > maxTokenBytes {
		return store.Device{}, false
	}
	d, err := a.store().Device(ctx, store.HashToken(c.Value), now)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			// Without the device the sign-in takes the ordinary way.
			a.log.WarnContext(ctx, "pbxauth: read device", "err", err)
		}
		return store.Device{}, false
	}
	return d, d.UserID == userID
}

// deviceLane is the hashing lane of a sign-in: the favoured one, one hash at
// a time per user, through a known device.
func deviceLane(d store.Device, known bool) lane {
	if !known {
		return ordinaryLane
	}
	return lane{lane: hasher.Known, key: d.UserID}
}

// signInDevice is the known device a sign-in that proves the password is
// made through: the request's own live device of the user, whose cookie
// the sign-in rotates, or a new one. The sign-in records its ID
// (store.Family.DeviceID) before the cookie is set, so that a password
// change made through the sign-in spares that device alone.
type signInDevice struct {
	id    string
	old   store.Hash // the cookie's hash, when known
	known bool
}

// deviceOf returns the device a password sign-in of userID from r is made
// through.
func (a *Auth) deviceOf(r *http.Request, userID string) signInDevice {
	if d, ok := a.knownDevice(r.Context(), r, userID, a.now()); ok {
		return signInDevice{id: d.ID, old: d.Hash, known: true}
	}
	return signInDevice{id: newID()}
}

// rememberDevice sets the device cookie of a sign-in that proved the
// password of userID and now issues tokens: the request's own valid cookie
// of that user (dev.known) is rotated in place, else a device is added
// with dev's ID (evicting the user's least recently used beyond
// Limits.DevicesPerUser). A failure is only logged: the sign-in stands
// without it.
func (a *Auth) rememberDevice(w http.ResponseWriter, r *http.Request, userID string, dev signInDevice) {
	ctx, now := r.Context(), a.now()
	tok := newToken()
	d := store.Device{ID: dev.id, Hash: store.HashToken(tok), UserID: userID, LastUsedAt: now, ExpiresAt: now.Add(a.cfg.Limits.DeviceLifetime)}
	err := store.ErrNotFound
	if dev.known {
		err = a.store().RotateDevice(ctx, dev.old, d, now)
	}
	if errors.Is(err, store.ErrNotFound) {
		// No device yet, or a concurrent sign-in through the same cookie
		// rotated it: this browser's device is added under the ID the
		// sign-in recorded.
		err = a.store().AddDevice(ctx, d, a.cfg.Limits.DevicesPerUser, now)
	}
	if err != nil {
		a.log.WarnContext(ctx, "pbxauth: remember device", "user", userID, "err", err)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: a.deviceCookieName(), Value: tok, Path: "/",
		MaxAge:   int(a.cfg.Limits.DeviceLifetime / time.Second),
		HttpOnly: true, Secure: !a.cfg.InsecureCookies, SameSite: http.SameSiteLaxMode,
	})
}

// forgetDevices deletes every known device of the user: when the user is
// disabled, at a global sign-out, and at an unlock. (A password set or
// change deletes them in its own Store step.)
func (a *Auth) forgetDevices(ctx context.Context, userID string) error {
	return a.store().DeleteDevices(ctx, userID)
}
