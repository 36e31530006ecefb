// This file holds the middleware for a multi-tenant host's routes that act
// on one tenant: only that tenant's principals with an admitted role get
// in, and principals of other tenants are not told that it exists.

package pbxauth

import (
	"errors"
	"net/http"
	"slices"

	"github.com/pbxauth/pbxauth/store"
)

// RequireTenantRole returns middleware for a route that acts on one tenant:
// it requires a valid access token (as RequireBearer) of a user of that
// tenant whose role is one of roles. tenantOf returns the tenant's domain as
// the route names it (a path value, a query parameter), matched
// case-insensitively. The answer is
//
//   - 404, as for any unknown route, when the domain is empty, malformed or
//     no tenant's, and when the caller is a user of another tenant,
//     whatever its role: one tenant's Admin learns nothing of another
//     tenant, not even that it exists;
//   - 403 with error="insufficient_scope" for a user of the tenant whose
//     role is not among roles, and for a system user the route does not
//     admit;
//   - 401 as RequireBearer answers, before the tenant is looked up.
//
// A system user with role RoleSystemAdmin is admitted to every tenant's
// route only when RoleSystemAdmin is among roles; other system users
// (RoleDealer, RoleReplicator) never are. Unlike [Auth.RequireRole], it
// cannot let one tenant's Admin into another's routes.
func (a *Auth) RequireTenantRole(tenantOf func(*http.Request) string, roles ...string) func(http.Handler) http.Handler {
	systemAdmin := slices.Contains(roles, RoleSystemAdmin)
	return func(next http.Handler) http.Handler {
		return a.RequireBearer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			p, _ := PrincipalFrom(ctx)
			domain := tenantOf(r)
			if !store.ValidDomain(domain) {
				writeError(w, errNotFound)
				return
			}
			t, err := a.store().TenantByDomain(ctx, domain)
			switch {
			case errors.Is(err, store.ErrNotFound):
				writeError(w, errNotFound)
				return
			case err != nil:
				writeError(w, a.internal(ctx, "read the route's tenant", err))
				return
			}
			switch {
			case p.TenantID == t.ID && slices.Contains(roles, p.Role),
				p.TenantID == "" && p.Role == RoleSystemAdmin && systemAdmin:
				next.ServeHTTP(w, r)
			case p.TenantID != "" && p.TenantID != t.ID:
				writeError(w, errNotFound)
			default:
				w.Header().Set("WWW-Authenticate", `Bearer realm="`+a.cfg.Realm+`", error="insufficient_scope"`)
				writeError(w, errForbidden)
			}
		}))
	}
}
