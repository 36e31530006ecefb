// This file decides which tenant a tenant route ("More of PortSIP v22")
// acts on, from the caller and ?domain=, and which user a user route
// (/users/{id}/...) may act on.

package pbxauth

import (
	"errors"
	"net/http"
	"strings"

	"github.com/pbxauth/pbxauth/store"
)

// errDomainRequired answers a SystemAdmin's tenant route without ?domain=.
var errDomainRequired = invalidArgument("domain is required: name the tenant with ?domain=")

// isTenantAdmin reports whether p may change a tenant's settings: an Admin
// (of its own tenant) or a SystemAdmin (of every tenant).
func isTenantAdmin(p *Principal) bool {
	return (p.TenantID != "" && p.Role == RoleAdmin) || (p.TenantID == "" && p.Role == RoleSystemAdmin)
}

// scopedTenant returns the tenant a tenant route acts on. A SystemAdmin
// must name it with ?domain= (400 without; 404 for an unknown one); a
// tenant user may omit it or name its own tenant, any other value → 404.
// Other system users (Dealer, Replicator) are no tenant's: 403.
func (a *Auth) scopedTenant(r *http.Request, p *Principal) (store.Tenant, *apiError) {
	ctx := r.Context()
	domain := r.URL.Query().Get("domain")
	if e := checkDomain(domain, false); e != nil {
		return store.Tenant{}, e
	}
	var t store.Tenant
	var err error
	switch {
	case p.TenantID == "" && p.Role != RoleSystemAdmin:
		return store.Tenant{}, errForbidden
	case p.TenantID == "" && domain == "":
		return store.Tenant{}, errDomainRequired
	case domain == "":
		t, err = a.store().Tenant(ctx, p.TenantID)
	default:
		t, err = a.store().TenantByDomain(ctx, domain)
	}
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && p.TenantID != "" && t.ID != p.TenantID):
		return store.Tenant{}, errNotFound
	case err != nil:
		return store.Tenant{}, a.internal(ctx, "read tenant", err)
	}
	return t, nil
}

// scopedUser returns the user of the path's id that p, an Admin or a
// SystemAdmin, may act on: an Admin only users of its own tenant; any
// other user, a system user included, and an unknown id are 404 alike, so
// IDs are not confirmed across tenants.
func (a *Auth) scopedUser(r *http.Request, p *Principal) (store.User, *apiError) {
	ctx := r.Context()
	u, err := a.store().User(ctx, r.PathValue("id"))
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && p.Role != RoleSystemAdmin && u.TenantID != p.TenantID):
		return store.User{}, errNotFound
	case err != nil:
		return store.User{}, a.internal(ctx, "read user", err)
	}
	return u, nil
}

// adminTenant returns the caller and the tenant a tenant route that only
// reads acts on: the caller must be the tenant's Admin or a SystemAdmin
// (403 otherwise).
func (a *Auth) adminTenant(r *http.Request) (*Principal, store.Tenant, *apiError) {
	p, _ := PrincipalFrom(r.Context())
	if !isTenantAdmin(p) {
		return nil, store.Tenant{}, errForbidden
	}
	t, e := a.scopedTenant(r, p)
	return p, t, e
}

// changingTenant returns the caller and the tenant a state-changing tenant
// route acts on: the caller must be the tenant's Admin or a SystemAdmin
// (403 otherwise), with a recent sign-in.
func (a *Auth) changingTenant(w http.ResponseWriter, r *http.Request) (*Principal, store.Tenant, *apiError) {
	p, _ := PrincipalFrom(r.Context())
	if !isTenantAdmin(p) {
		return nil, store.Tenant{}, errForbidden
	}
	if _, e := a.recentCaller(w, r); e != nil {
		return nil, store.Tenant{}, e
	}
	t, e := a.scopedTenant(r, p)
	return p, t, e
}

// changeAnswer answers a tenant setting's change that failed with err
// (what names it for the log): its rule broken is 400, a Store without the
// capability 404, changes that kept overtaking it 503; nil for none.
func (a *Auth) changeAnswer(r *http.Request, what string, err error) *apiError {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrInvalid):
		return invalidArgument(strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": "))
	case errors.Is(err, store.ErrNotFound):
		return errNotFound
	case errors.Is(err, store.ErrConflict):
		return errBusy
	}
	return a.internal(r.Context(), what, err)
}
