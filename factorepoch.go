// This file holds the sign-in epoch of the bearer routes that register a
// factor (confirming an authenticator app, replacing recovery codes): the
// epoch is read while the bearer's sign-in is live, and the Store stores
// the factor only while it is unchanged, so that nothing registered in a
// race with a password reset or a global sign-out survives it (DESIGN.md
// "Tokens").

package pbxauth

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/pbxauth/pbxauth/store"
)

// errCredentialsChanged answers a factor change refused with ErrStale
// whose bearer sign-in is still live: the user's sign-ins were ended,
// all but this one, while the request ran.
var errCredentialsChanged = &apiError{status: http.StatusBadRequest, code: CodeInvalidArgument, reason: ReasonCredentialsChanged,
	message: "the account's credentials changed, or its other sign-ins were ended, while this request ran: nothing was changed; try again"}

// factorCaller is the caller of a route that registers a factor, and the
// user's sign-in epoch read while the caller's sign-in was live.
type factorCaller struct {
	*Principal
	epoch int64
}

// factorCaller reads the epoch a factor registered by p carries: the
// user's epoch, read before p's sign-in is seen live. Read in that order,
// a step that ended the sign-in before the read shows as a sign-in no
// longer live (401 invalid_token), and one after it as an epoch that
// moved, which the Store refuses. The bearer check alone would not do:
// the step may have run since.
func (a *Auth) factorCaller(w http.ResponseWriter, r *http.Request, p *Principal) (factorCaller, *apiError) {
	u, e := a.liveCaller(w, r, p)
	if e != nil {
		return factorCaller{}, e
	}
	return factorCaller{Principal: p, epoch: u.Epoch}, nil
}

// liveCaller reads p's user, then sees p's sign-in live, in the order
// factorCaller needs: the user's Epoch is the one a change p makes
// carries.
func (a *Auth) liveCaller(w http.ResponseWriter, r *http.Request, p *Principal) (store.User, *apiError) {
	ctx := r.Context()
	u, err := a.store().User(ctx, p.UserID)
	if errors.Is(err, ErrNotFound) {
		return store.User{}, a.endedBearer(w)
	}
	if err != nil {
		return store.User{}, a.internal(ctx, "read user", err)
	}
	if e := a.liveBearer(ctx, w, p); e != nil {
		return store.User{}, e
	}
	return u, nil
}

// liveBearer answers 401 invalid_token unless p's sign-in is live. It
// reads the Store itself, past any cache of grants.
func (a *Auth) liveBearer(ctx context.Context, w http.ResponseWriter, p *Principal) *apiError {
	fs, err := a.store().Families(ctx, p.UserID, a.now())
	if err != nil {
		return a.internal(ctx, "read sign-ins", err)
	}
	if !slices.ContainsFunc(fs, func(f store.Family) bool { return f.ID == p.FamilyID }) {
		return a.endedBearer(w)
	}
	return nil
}

// endedBearer is the 401 of a bearer token whose sign-in ended.
func (a *Auth) endedBearer(w http.ResponseWriter) *apiError {
	w.Header().Set("WWW-Authenticate", `Bearer realm="`+a.cfg.Realm+`", error="invalid_token"`)
	return errInvalidToken
}

// factorFailed answers a factor change the Store refused with err:
// ErrStale is 401 invalid_token when the caller's sign-in ended meanwhile,
// else 400 with reason credentials_changed; anything else is the Store's
// failure at what.
func (a *Auth) factorFailed(w http.ResponseWriter, r *http.Request, c factorCaller, what string, err error) *apiError {
	ctx := r.Context()
	if !errors.Is(err, store.ErrStale) {
		return a.internal(ctx, what, err)
	}
	if e := a.liveBearer(ctx, w, c.Principal); e != nil {
		return e
	}
	return errCredentialsChanged
}
