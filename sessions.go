// This file serves a user's view of their own sign-ins: GET /auth/sessions,
// DELETE /auth/sessions/{id} and the scopes of POST /auth/sign_out.

package pbxauth

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// EventSessionRevoked reports a sign-in ended by its user from another one
// (DELETE /auth/sessions/{id}, sign_out with a scope) or by the host
// ([Auth.RevokeSession], [Auth.SignOutEverywhere], ...); Event.SessionID
// names it. A request that ends its own sign-in reports EventSignOut
// instead, so every ended sign-in is reported exactly once. UserID,
// TenantID, SessionID; ClientIP of the request that ended it (none from the
// Go API); Reason ReasonEvicted when a new sign-in pushed it out (see
// Limits.SignInsPerUser).
const EventSessionRevoked EventKind = "session_revoked"

// maxSessionID bounds the {id} of DELETE /auth/sessions/{id}: our IDs are
// 22 bytes; anything far longer is not one and is not sent to the store.
const maxSessionID = 128

var errNoSuchSession = &apiError{status: http.StatusNotFound, code: CodeNotFound, message: "no such session"}

// sessionInfo is one element of GET /auth/sessions.
type sessionInfo struct {
	ID         string `json:"id"`
	Method     string `json:"method"`
	CreatedAt  string `json:"created_at"`
	LastUsedAt string `json:"last_used_at"`
	ExpiresAt  string `json:"expires_at"`
	ClientIP   string `json:"client_ip"`
	UserAgent  string `json:"user_agent"`
	Current    bool   `json:"current"`
}

// sessionList is the JSON of GET /auth/sessions.
type sessionList struct {
	Sessions []sessionInfo `json:"sessions"`
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// listSessions serves GET /auth/sessions: the caller's live sign-ins,
// newest first, the caller's own marked current.
func (a *Auth) listSessions(w http.ResponseWriter, r *http.Request) *apiError {
	ctx := r.Context()
	p, _ := PrincipalFrom(ctx)
	fs, err := a.store().Families(ctx, p.UserID, a.now())
	if err != nil {
		return a.internal(ctx, "list sign-ins", err)
	}
	list := sessionList{Sessions: make([]sessionInfo, 0, len(fs))}
	for _, f := range fs {
		list.Sessions = append(list.Sessions, sessionInfo{
			ID: f.ID, Method: f.Method,
			CreatedAt: rfc3339(f.CreatedAt), LastUsedAt: rfc3339(f.LastUsedAt), ExpiresAt: rfc3339(f.ExpiresAt),
			ClientIP: f.ClientIP, UserAgent: f.UserAgent,
			Current: f.ID == p.FamilyID,
		})
	}
	// The list names where the user is signed in: no cache keeps it.
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, list)
	return nil
}

// revokeSession serves DELETE /auth/sessions/{id}. Someone else's sign-in
// is 404 like a missing one, so the route tells nothing about other users'
// sign-ins.
func (a *Auth) revokeSession(w http.ResponseWriter, r *http.Request) *apiError {
	ctx := r.Context()
	p, _ := PrincipalFrom(ctx)
	id := r.PathValue("id")
	if id == "" || len(id) > maxSessionID {
		return errNoSuchSession
	}
	err := a.revokeUserFamily(ctx, p.UserID, p.TenantID, id, origin{ip: a.clientIP(r), family: p.FamilyID})
	if errors.Is(err, store.ErrNotFound) {
		return errNoSuchSession
	}
	if err != nil {
		return a.internal(ctx, "revoke sign-in", err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// signOutScope serves POST /auth/sign_out?scope=others|global. A scope
// given twice is refused: which one was meant cannot be told.
func (a *Auth) signOutScope(w http.ResponseWriter, r *http.Request, scope []string) *apiError {
	ctx := r.Context()
	p, _ := PrincipalFrom(ctx)
	except := ""
	if len(scope) != 1 {
		return invalidArgument("scope must be given once")
	}
	switch scope[0] {
	case "others":
		except = p.FamilyID
	case "global":
	default:
		return invalidArgument("scope must be others or global")
	}
	if _, err := a.endSignIns(ctx, p.UserID, p.TenantID, except, origin{ip: a.clientIP(r), family: p.FamilyID}); err != nil {
		return a.internal(ctx, "revoke sign-ins", err)
	}
	if scope[0] == "global" {
		// Signed out everywhere: no browser stays a known device either.
		if err := a.forgetDevices(ctx, p.UserID); err != nil {
			return a.internal(ctx, "forget known devices", err)
		}
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// origin is who ends sign-ins: the client address of the request and its
// own sign-in, both empty for the host acting through the Go API.
type origin struct{ ip, family string }

// revokeUserFamily ends one of the user's live sign-ins and reports it;
// ErrNotFound when it is not the user's or not live.
func (a *Auth) revokeUserFamily(ctx context.Context, userID, tenantID, familyID string, o origin) error {
	if err := a.store().RevokeUserFamily(ctx, userID, familyID, a.now()); err != nil {
		return err
	}
	a.emitEnded(ctx, userID, tenantID, familyID, o)
	return nil
}

// endSignIns ends every live sign-in of the user but except ("" for none)
// in one store step, reports each, and says how many it ended.
func (a *Auth) endSignIns(ctx context.Context, userID, tenantID, except string, o origin) (int, error) {
	ids, err := a.store().RevokeOtherFamilies(ctx, userID, except, a.now())
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		a.emitEnded(ctx, userID, tenantID, id, o)
	}
	return len(ids), nil
}

// emitEnded reports an ended sign-in: a sign-out when the request ended its
// own, else a revocation.
func (a *Auth) emitEnded(ctx context.Context, userID, tenantID, familyID string, o origin) {
	kind := EventSessionRevoked
	if familyID == o.family {
		kind = EventSignOut
	}
	a.emit(ctx, Event{Kind: kind, UserID: userID, TenantID: tenantID, ClientIP: o.ip, SessionID: familyID})
}
