// This file checks known devices: lookup by hash with expiry, eviction of a
// user's least recently used devices, rotation in place (once, under
// concurrency), deletion per user, and sweeping.

package storetest

import (
	"fmt"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// device returns a device of user last used at base+used, living a day more.
func device(name, userID string, used time.Duration) store.Device {
	return store.Device{ID: "d-" + name, Hash: hash("device/" + name), UserID: userID, LastUsedAt: at(used), ExpiresAt: at(used + 24*time.Hour)}
}

// addDevice stores d with max at now or stops the check.
func addDevice(t tb, s store.Store, d store.Device, max int, now time.Time) {
	t.Helper()
	must(t, s.AddDevice(t.Context(), d, max, now), "AddDevice "+d.UserID)
}

// wantDevice checks that h reads as want at now, or is ErrNotFound when
// want is the zero Device.
func wantDevice(t tb, s store.Store, h store.Hash, want store.Device, now time.Time, what string) {
	t.Helper()
	got, err := s.Device(t.Context(), h, now)
	if want == (store.Device{}) {
		wantErr(t, err, store.ErrNotFound, "Device "+what)
		return
	}
	wantErr(t, err, nil, "Device "+what)
	equal(t, "Device "+what, got, want)
}

var deviceChecks = []check{
	{name: "RoundTripAndExpiry", fn: func(t tb, s store.Store) {
		d := device("a", "u-1", 0)
		addDevice(t, s, d, 10, base)
		wantDevice(t, s, d.Hash, d, base, "after AddDevice")
		wantDevice(t, s, d.Hash, d, d.ExpiresAt.Add(-time.Nanosecond), "1ns before it expires")
		wantDevice(t, s, d.Hash, store.Device{}, d.ExpiresAt, "when it expires")
		wantDevice(t, s, hash("device/none"), store.Device{}, base, "of a missing hash")
		wantErr(t, s.AddDevice(t.Context(), d, 10, base), store.ErrConflict, "AddDevice with a hash that exists")
	}},
	{name: "EvictsLeastRecentlyUsed", fn: func(t tb, s store.Store) {
		// Added out of order: eviction goes by last use, not by age.
		uses := []time.Duration{5, 1, 4, 2, 3}
		for i, u := range uses {
			addDevice(t, s, device(fmt.Sprint(i), "u-1", u*time.Minute), 3, at(6*time.Minute))
		}
		other := device("other", "u-2", 0)
		addDevice(t, s, other, 3, at(6*time.Minute))
		for i, u := range uses {
			want := device(fmt.Sprint(i), "u-1", u*time.Minute)
			if u < 3 { // the two least recently used went
				want = store.Device{}
			}
			wantDevice(t, s, hash(fmt.Sprint("device/", i)), want, at(6*time.Minute), fmt.Sprint("used at +", u, "m after adding five with max 3"))
		}
		wantDevice(t, s, other.Hash, other, at(6*time.Minute), "of another user")
		// An expired device does not count against the maximum.
		late := at(24*time.Hour + 3*time.Minute + 30*time.Second) // devices 0 (+5m) and 2 (+4m) live, 4 (+3m) expired
		addDevice(t, s, device("new", "u-1", 24*time.Hour), 3, late)
		wantDevice(t, s, hash("device/0"), device("0", "u-1", 5*time.Minute), late, "still live after another add")
		wantDevice(t, s, hash("device/2"), device("2", "u-1", 4*time.Minute), late, "still live after another add")
	}},
	{name: "ConcurrentAddsKeepMax", fn: func(t tb, s store.Store) {
		errs := concurrently(racers, func(i int) error {
			return s.AddDevice(t.Context(), device(fmt.Sprint(i), "u-1", time.Duration(i)*time.Second), 4, at(time.Minute))
		})
		for _, err := range errs {
			wantErr(t, err, nil, "concurrent AddDevice")
		}
		live := 0
		for i := range racers {
			if _, err := s.Device(t.Context(), hash(fmt.Sprint("device/", i)), at(time.Minute)); err == nil {
				live++
			}
		}
		if live != 4 {
			t.Errorf("%d concurrent AddDevice with max 4 left %d devices", racers, live)
		}
	}},
	{name: "RotateInPlace", fn: func(t tb, s store.Store) {
		d := device("a", "u-1", 0)
		addDevice(t, s, d, 10, base)
		next := device("b", "u-1", time.Hour)
		must(t, s.RotateDevice(t.Context(), d.Hash, next, at(time.Hour)), "RotateDevice")
		next.ID = d.ID // the device keeps its name
		wantDevice(t, s, d.Hash, store.Device{}, at(time.Hour), "of the old hash after RotateDevice")
		wantDevice(t, s, next.Hash, next, at(time.Hour), "of the new hash after RotateDevice")
		wantErr(t, s.RotateDevice(t.Context(), d.Hash, device("c", "u-1", time.Hour), at(time.Hour)), store.ErrNotFound, "RotateDevice of a rotated hash")
		wantErr(t, s.RotateDevice(t.Context(), next.Hash, device("c", "u-2", time.Hour), at(time.Hour)), store.ErrNotFound, "RotateDevice of another user's device")
		wantErr(t, s.RotateDevice(t.Context(), next.Hash, device("c", "u-1", time.Hour), next.ExpiresAt), store.ErrNotFound, "RotateDevice of an expired device")
		addDevice(t, s, device("c", "u-1", time.Hour), 10, at(time.Hour))
		wantErr(t, s.RotateDevice(t.Context(), next.Hash, device("c", "u-1", time.Hour), at(time.Hour)), store.ErrConflict, "RotateDevice to a hash that exists")
		wantDevice(t, s, next.Hash, next, at(time.Hour), "after a refused RotateDevice")
	}},
	{name: "ConcurrentRotate", fn: func(t tb, s store.Store) {
		d := device("a", "u-1", 0)
		addDevice(t, s, d, 10, base)
		errs := concurrently(racers, func(i int) error {
			return s.RotateDevice(t.Context(), d.Hash, device(fmt.Sprint("next/", i), "u-1", time.Minute), at(time.Minute))
		})
		w := oneWinner(t, "RotateDevice", errs, store.ErrNotFound)
		for i := range racers {
			want := store.Device{}
			if i == w {
				want = device(fmt.Sprint("next/", i), "u-1", time.Minute)
				want.ID = d.ID
			}
			wantDevice(t, s, hash(fmt.Sprint("device/next/", i)), want, at(time.Minute), fmt.Sprint("of racer ", i))
		}
	}},
	{name: "DeleteDevices", fn: func(t tb, s store.Store) {
		for i := range 3 {
			addDevice(t, s, device(fmt.Sprint(i), "u-1", 0), 10, base)
		}
		other := device("other", "u-2", 0)
		addDevice(t, s, other, 10, base)
		for range 2 {
			must(t, s.DeleteDevices(t.Context(), "u-1"), "DeleteDevices")
		}
		for i := range 3 {
			wantDevice(t, s, hash(fmt.Sprint("device/", i)), store.Device{}, base, "after DeleteDevices")
		}
		wantDevice(t, s, other.Hash, other, base, "of another user after DeleteDevices")
		must(t, s.DeleteDevices(t.Context(), "nobody"), "DeleteDevices of a user without devices")
	}},
	{name: "Swept", fn: func(t tb, s store.Store) {
		sw, ok := s.(store.Sweeper)
		if !ok {
			t.Skipf("%T does not implement store.Sweeper", s)
		}
		dead := device("dead", "u-1", -25*time.Hour)
		live := device("live", "u-1", 0)
		addDevice(t, s, dead, 10, at(-25*time.Hour))
		addDevice(t, s, live, 10, at(-25*time.Hour))
		n, err := sw.DeleteExpired(t.Context(), base)
		wantErr(t, err, nil, "DeleteExpired")
		if n != 1 {
			t.Errorf("DeleteExpired = %d, want 1 (a device)", n)
		}
		wantDevice(t, s, live.Hash, live, base, "of a live device after DeleteExpired")
		addDevice(t, s, dead, 10, at(-25*time.Hour)) // its hash is free again
	}},
}
