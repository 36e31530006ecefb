// This file binds a tenant user to a Microsoft account ("More of PortSIP
// v22"): POST /users/{id}/ms365_binding (PortSIP's addUserMs365Binding)
// and POST /users/{id}/ms365_binding/destroy (removeUserMs365Binding),
// and their Go counterparts. An administrator vouches for the account, so
// it then signs in as the user with no email match (msbound.go).

package pbxauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/pbxauth/pbxauth/internal/asciifold"
	"github.com/pbxauth/pbxauth/store"
)

// maxBindingID is the longest object ID or UPN a binding or a selection
// accepts: Entra's UPNs are at most 113 characters, an email address 254.
const maxBindingID = 254

var (
	errBindingTaken    = &apiError{status: http.StatusConflict, code: CodeConflict, message: "the Microsoft account is bound or linked to another user"}
	errBindSystemUser  = invalidArgument("id names a system user: only tenant users are bound to Microsoft accounts")
	errNoBindingsStore = fmt.Errorf("%w: the store keeps no Microsoft bindings", store.ErrNotFound)
)

// bindingStore is the Store's MicrosoftBindingStore, or nil.
func (a *Auth) bindingStore() store.MicrosoftBindingStore {
	bs, _ := a.cfg.Store.(store.MicrosoftBindingStore) // not a.store(): its timing wrapper has no optional capability
	return bs
}

// bindingKey returns the binding key of an account named by an object ID
// (a GUID) or a UPN (exactly one @, both sides set, no spaces or control
// characters), both folded to lower case ASCII; "" when id is neither.
func bindingKey(id string) string {
	if isGUID(id) {
		return store.BindingOID + asciifold.Lower(id)
	}
	local, domain, ok := strings.Cut(id, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") || len(id) > maxBindingID {
		return ""
	}
	for _, r := range id {
		if r <= ' ' || r == 0x7f {
			return ""
		}
	}
	return store.BindingUPN + asciifold.Lower(id)
}

// isGUID reports whether s is a GUID in its usual form,
// 8-4-4-4-12 hexadecimal digits, in any case.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// bindingAccount is the account a key names, for mails and events.
func bindingAccount(key string) string {
	if v, ok := strings.CutPrefix(key, store.BindingOID); ok {
		return "object ID " + v
	}
	return strings.TrimPrefix(key, store.BindingUPN)
}

// bindingRequest is the body of POST /users/{id}/ms365_binding.
type bindingRequest struct {
	ID string `json:"id"`
}

// errBindingID answers an id that names no account.
var errBindingID = invalidArgument("id must be a Microsoft account's object ID (a GUID) or its user principal name (name@domain)")

// bindingTarget returns the user of the path's id that the caller may bind:
// an Admin only users of its own tenant (anyone else, a system user
// included, and an unknown id are 404 alike), a SystemAdmin any tenant
// user (a system user is 400).
func (a *Auth) bindingTarget(r *http.Request, p *Principal) (store.User, *apiError) {
	u, e := a.scopedUser(r, p)
	if e == nil && u.TenantID == "" {
		return store.User{}, errBindSystemUser
	}
	return u, e
}

// addUserMs365Binding serves POST /users/{id}/ms365_binding, behind
// RequireRole(RoleAdmin, RoleSystemAdmin), with a recent sign-in.
func (a *Auth) addUserMs365Binding(w http.ResponseWriter, r *http.Request) *apiError {
	var req bindingRequest
	p, e := a.recentRequest(w, r, &req)
	if e != nil {
		return e
	}
	key := bindingKey(req.ID)
	if key == "" {
		return errBindingID
	}
	u, e := a.bindingTarget(r, p)
	if e != nil {
		return e
	}
	err := a.bindMicrosoft(r.Context(), u, key, p.UserID, origin{ip: a.clientIP(r)})
	switch {
	case errors.Is(err, store.ErrConflict):
		return errBindingTaken
	case errors.Is(err, store.ErrNotFound):
		return errNotFound
	case err != nil:
		return a.internal(r.Context(), "bind Microsoft account", err)
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// removeUserMs365Binding serves POST /users/{id}/ms365_binding/destroy,
// behind RequireRole(RoleAdmin, RoleSystemAdmin), with a recent sign-in:
// 204 whether or not the user had a binding.
func (a *Auth) removeUserMs365Binding(w http.ResponseWriter, r *http.Request) *apiError {
	p, e := a.recentCaller(w, r)
	if e != nil {
		return e
	}
	u, e := a.bindingTarget(r, p)
	if e != nil {
		return e
	}
	err := a.unbindMicrosoft(r.Context(), u, p.UserID, origin{ip: a.clientIP(r)})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errNotFound
	case err != nil:
		return a.internal(r.Context(), "remove Microsoft binding", err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// bindMicrosoft binds u to the account of key through the Store (which
// removes u's earlier binding and links in the same step), ends u's
// sign-ins made through Microsoft, reports it and mails u. actor is the
// administrator ("" for the Go API).
func (a *Auth) bindMicrosoft(ctx context.Context, u store.User, key, actor string, o origin) error {
	bs := a.bindingStore()
	if bs == nil {
		return errNoBindingsStore
	}
	if err := bs.BindMicrosoft(ctx, store.MicrosoftBinding{TenantID: u.TenantID, UserID: u.ID, Key: key}); err != nil {
		return err
	}
	if err := a.endMicrosoftSignIns(ctx, u.ID, u.TenantID, o); err != nil {
		return err
	}
	account := bindingAccount(key)
	a.emit(ctx, Event{Kind: EventMicrosoftBindingAdded, UserID: u.ID, TenantID: u.TenantID, Username: u.Username,
		ClientIP: o.ip, Actor: actor, Change: "bound to the Microsoft account " + account})
	a.mailNotice(ctx, u.ID, a.cfg.Mail.AccountChanged, func(m *MailData) {
		m.Change = "An administrator bound the Microsoft account " + account + " to sign in"
	})
	return nil
}

// unbindMicrosoft removes u's binding and links and ends u's sign-ins made
// through Microsoft; a removed binding is reported.
func (a *Auth) unbindMicrosoft(ctx context.Context, u store.User, actor string, o origin) error {
	bs := a.bindingStore()
	if bs == nil {
		return errNoBindingsStore
	}
	b, err := bs.UserMicrosoftBinding(ctx, u.TenantID, u.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	had, err := bs.UnbindMicrosoft(ctx, u.TenantID, u.ID)
	if err != nil {
		return err
	}
	if err := a.endMicrosoftSignIns(ctx, u.ID, u.TenantID, o); err != nil {
		return err
	}
	if had {
		a.emit(ctx, Event{Kind: EventMicrosoftBindingRemoved, UserID: u.ID, TenantID: u.TenantID, Username: u.Username,
			ClientIP: o.ip, Actor: actor, Change: "unbound from the Microsoft account " + bindingAccount(b.Key)})
	}
	return nil
}

// endMicrosoftSignIns ends the user's sign-ins made through Microsoft,
// in flight too (the epoch advances; the others are carried over), and
// reports each.
func (a *Auth) endMicrosoftSignIns(ctx context.Context, userID, tenantID string, o origin) error {
	ids, err := a.store().RevokeMethodFamilies(ctx, userID, methodMicrosoft, a.now())
	if err != nil {
		return err
	}
	for _, id := range ids {
		a.emitEnded(ctx, userID, tenantID, id, o)
	}
	return nil
}

// BindMicrosoftAccount binds the tenant user userID to the Microsoft
// account of the tenant's directory named by account — its object ID (a
// GUID) or its user principal name — as POST /users/{id}/ms365_binding
// does: the user's earlier binding and links go, their sign-ins made
// through Microsoft end, the user is mailed and EventMicrosoftBindingAdded
// is reported. The account then signs in as the user without any email
// match, when its ID token comes from the tenant's directory (a UPN only
// for a member, not a guest). ErrInvalid for an account that is neither
// or a system user; ErrNotFound for an unknown user or a Store that keeps
// no bindings; ErrConflict when another user of the tenant is bound to the
// account or linked to its object ID.
func (a *Auth) BindMicrosoftAccount(ctx context.Context, userID, account string) error {
	key := bindingKey(account)
	if key == "" {
		return apiErr(errBindingID)
	}
	u, err := a.bindableUser(ctx, userID)
	if err != nil {
		return err
	}
	err = a.bindMicrosoft(ctx, u, key, "", origin{})
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("%w: %s", store.ErrConflict, errBindingTaken.message)
	}
	return err
}

// UnbindMicrosoftAccount removes the user's Microsoft binding and links,
// as POST /users/{id}/ms365_binding/destroy does, and ends the user's
// sign-ins made through Microsoft; a user without a binding is not an
// error. ErrNotFound for an unknown user or a Store that keeps no
// bindings; ErrInvalid for a system user.
func (a *Auth) UnbindMicrosoftAccount(ctx context.Context, userID string) error {
	u, err := a.bindableUser(ctx, userID)
	if err != nil {
		return err
	}
	return a.unbindMicrosoft(ctx, u, "", origin{})
}

// bindableUser returns the tenant user userID.
func (a *Auth) bindableUser(ctx context.Context, userID string) (store.User, error) {
	u, err := a.store().User(ctx, userID)
	if err == nil && u.TenantID == "" {
		err = apiErr(errBindSystemUser)
	}
	return u, err
}
