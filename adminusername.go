// This file holds POST /admin/username (PortSIP's
// changeSystemAdminUsername): a SystemAdmin renames itself. The name
// follows the username rules (a reserved name is allowed, as for every
// system user) and conflicts only with another system user's; sign-ins,
// devices and passkeys survive (DESIGN.md "More of PortSIP v22").

package pbxauth

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/pbxauth/pbxauth/store"
)

// EventUsernameChanged: a SystemAdmin renamed itself with POST
// /admin/username, or a host renamed a user with [Auth.SetUsername];
// Username is the new name.
const EventUsernameChanged EventKind = "username_changed"

// errNameTaken answers a rename to a name another system user holds.
var errNameTaken = &apiError{status: http.StatusConflict, code: CodeConflict, message: "name is another system user's"}

// renameRequest is the body of POST /admin/username.
type renameRequest struct {
	Name string `json:"name"`
}

// renameSystemAdmin serves POST /admin/username, behind
// RequireRole(RoleSystemAdmin).
func (a *Auth) renameSystemAdmin(w http.ResponseWriter, r *http.Request) *apiError {
	var req renameRequest
	p, e := a.recentRequest(w, r, &req)
	if e != nil {
		return e
	}
	if e := checkUsername(req.Name, false); e != nil {
		return invalidArgument(strings.Replace(e.message, "username", "name", 1))
	}
	ctx := r.Context()
	switch err := a.rename(ctx, p.UserID, p.TenantID, p.Username, req.Name, a.clientIP(r)); {
	case errors.Is(err, store.ErrConflict):
		return errNameTaken
	case errors.Is(err, store.ErrNotFound):
		return a.endedBearer(w)
	case err != nil:
		return a.internal(ctx, "rename", err)
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// SetUsername renames the user under the username rules (a reserved name
// only for a system user); every other field, the password and the
// sign-ins stay. The user is mailed and EventUsernameChanged reported.
// ErrNotFound for an unknown user; ErrConflict when another user of the
// tenant (or another system user) holds the name in any case (a change of
// case alone is allowed); ErrInvalid for a name the rules refuse.
func (a *Auth) SetUsername(ctx context.Context, userID, username string) error {
	u, err := a.store().User(ctx, userID)
	if err != nil {
		return err
	}
	if err := apiErr(checkUsername(username, u.TenantID != "")); err != nil {
		return err
	}
	return a.rename(ctx, u.ID, u.TenantID, u.Username, username, "")
}

// rename renames the user from old to name, mails the user and reports
// EventUsernameChanged from the client address ip ("" from Go).
func (a *Auth) rename(ctx context.Context, userID, tenantID, old, name, ip string) error {
	if err := a.store().SetUsername(ctx, userID, name); err != nil {
		return err
	}
	a.emit(ctx, Event{Kind: EventUsernameChanged, UserID: userID, TenantID: tenantID, Username: name, ClientIP: ip})
	a.mailNotice(ctx, userID, a.cfg.Mail.AccountChanged, func(m *MailData) { m.Change = "The username " + old + " was changed" })
	return nil
}
