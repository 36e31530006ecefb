// This file holds DeviceStore, the Store capability behind known devices
// (OWASP "device cookies"): a record per browser or app a user signed in
// from, kept by the hash of the cookie's token.

package store

import (
	"context"
	"time"
)

// Device is a known device: a client that proved a user's password before
// and holds the device cookie whose token hashes to Hash.
type Device struct {
	// ID names the device for as long as it lives; rotations keep it. The
	// device's own limits are keyed by it. UTF-8 text without NUL.
	ID         string
	Hash       Hash
	UserID     string
	LastUsedAt time.Time // the last sign-in through it
	ExpiresAt  time.Time // the store forgets the device from then on
}

// DeviceStore keeps known devices. It is part of [Store].
type DeviceStore interface {
	// Device returns the device with hash h, or ErrNotFound when it is
	// missing or expired at now.
	Device(ctx context.Context, h Hash, now time.Time) (Device, error)
	// AddDevice stores d and, in the same atomic step, deletes the user's
	// least recently used devices (by LastUsedAt) beyond the newest max,
	// d included, so that concurrent adds never leave more than max live
	// devices. Expired devices do not count and may be deleted.
	// ErrConflict when a device with d.Hash exists.
	AddDevice(ctx context.Context, d Device, max int, now time.Time) error
	// RotateDevice gives the live device old of the user d.UserID the new
	// hash d.Hash and d's LastUsedAt and ExpiresAt, keeping its ID
	// (d.ID is ignored), atomically: of
	// concurrent rotations of one device exactly one succeeds and the
	// others get ErrNotFound, as they do when old is missing, expired at
	// now or another user's. ErrConflict when a device with d.Hash exists.
	RotateDevice(ctx context.Context, old Hash, d Device, now time.Time) error
	// DeleteDevices deletes every device of the user; none is not an error.
	DeleteDevices(ctx context.Context, userID string) error
}
