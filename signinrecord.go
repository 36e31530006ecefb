// This file keeps a sign-in's last use: written at most once a minute per
// sign-in, never on every request.

package pbxauth

import (
	"context"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// lastUsedResolution is how stale a sign-in's LastUsedAt may get before a
// use writes it again.
const lastUsedResolution = time.Minute

// touchSignIn records that a token of f was just accepted, at now (the
// time its grant was checked at: one clock read per request). f is the family
// as the Grant read it, so the check costs no round trip: only when its
// LastUsedAt is a minute old does one conditional write follow, and of
// several instances doing so at once the store lets one write. A failure
// is only logged: the request itself was granted.
func (a *Auth) touchSignIn(ctx context.Context, f store.Family, now time.Time) {
	stale := now.Add(-lastUsedResolution)
	if f.LastUsedAt.After(stale) {
		return
	}
	if err := a.store().TouchFamily(ctx, f.ID, now, stale); err != nil {
		a.log.WarnContext(ctx, "pbxauth: record a sign-in's last use", "err", err)
	}
}
