// This file holds POST /admin/username (PortSIP's
// changeSystemAdminUsername): a SystemAdmin renames itself. The name
// follows the username rules (a reserved name is allowed, as for every
// system user) and conflicts only with another system user's; sign-ins,
// devices and passkeys survive (DESIGN.md "More of PortSIP v22").

package pbxauth

import (
	"errors"
	"net/http"
	"strings"

	"github.com/pbxauth/pbxauth/store"
)

// EventUsernameChanged: a SystemAdmin renamed itself with POST
// /admin/username; Username is the new name.
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
	switch err := a.store.SetUsername(ctx, p.UserID, req.Name); {
	case errors.Is(err, store.ErrConflict):
		return errNameTaken
	case errors.Is(err, store.ErrNotFound):
		return a.endedBearer(w)
	case err != nil:
		return a.internal(ctx, "rename", err)
	}
	a.emit(ctx, Event{Kind: EventUsernameChanged, UserID: p.UserID, Username: req.Name, ClientIP: a.clientIP(r), SessionID: p.FamilyID})
	old := p.Username
	a.mailNotice(ctx, p.UserID, a.cfg.Mail.AccountChanged, func(m *MailData) { m.Change = "The username " + old + " was changed" })
	w.WriteHeader(http.StatusOK)
	return nil
}
