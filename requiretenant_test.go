// Tests of RequireTenantRole over HTTP, as a multi-tenant host mounts it:
// one tenant's Admin never reaches another tenant's routes, and is not told
// that the other tenant exists.

package pbxauth_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/store"
)

// outageOfTenants fails every lookup of a tenant by domain once broken is
// set, as a database gone away would.
type outageOfTenants struct {
	store.Store
	broken *atomic.Bool
}

func (s outageOfTenants) TenantByDomain(ctx context.Context, domain string) (store.Tenant, error) {
	if s.broken.Load() {
		return store.Tenant{}, errOutage
	}
	return s.Store.TenantByDomain(ctx, domain)
}

// tenantRoutes serves the host routes /t/{domain}/ext (admitting roles of
// that tenant) and /q?domain= (the same through a query), answering the
// caller's username.
func tenantRoutes(t *testing.T, e *env, roles ...string) *apitest.Client {
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := pbxauth.PrincipalFrom(r.Context())
		w.Write([]byte(p.Username))
	})
	mux := http.NewServeMux()
	mux.Handle("GET /t/{domain}/ext", e.auth.RequireTenantRole(func(r *http.Request) string { return r.PathValue("domain") }, roles...)(hello))
	mux.Handle("GET /q", e.auth.RequireTenantRole(func(r *http.Request) string { return r.URL.Query().Get("domain") }, roles...)(hello))
	return apitest.Serve(t, e.auth.Handler(), mux)
}

// get calls path with the access token and returns the status, the body and
// the WWW-Authenticate header.
func get(t *testing.T, c *apitest.Client, path, access string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest("GET", c.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if access != "" {
		req.Header.Set("Authorization", "Bearer "+access)
	}
	r := c.Send(req)
	return r.Status, string(r.Body), r.Header.Get("WWW-Authenticate")
}

func TestRequireTenantRole(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, nu := range []pbxauth.NewUser{
		{Domain: acmeDomain, Username: "bob", Password: "bob-pw-1234", Role: pbxauth.RoleStandardUser},
		{Domain: "other.example.test", Username: "olga", Password: "olga-pw-1234", Role: pbxauth.RoleAdmin},
		{Username: "dealer", Password: "dealer-pw-1234", Role: pbxauth.RoleDealer},
	} {
		if _, err := e.auth.CreateUser(ctx, nu); err != nil {
			t.Fatal(err)
		}
	}
	alice, _ := e.signIn(t, aliceCreds())
	bob, _ := e.signIn(t, map[string]any{"username": "bob", "password": "bob-pw-1234", "domain": acmeDomain})
	olga, _ := e.signIn(t, map[string]any{"username": "olga", "password": "olga-pw-1234", "domain": "other.example.test"})
	admin, _ := e.signIn(t, map[string]any{"username": "admin", "password": adminPW})
	dealer, _ := e.signIn(t, map[string]any{"username": "dealer", "password": "dealer-pw-1234"})

	admins := tenantRoutes(t, e, pbxauth.RoleAdmin)
	ref := admins.Do("GET", "/no/such/route", nil) // how pbxauth answers an unknown route
	if ref.Status != 404 {
		t.Fatalf("an unknown route: %d", ref.Status)
	}
	unknown := string(ref.Body)
	for _, c := range []struct {
		name, path, access string
		status             int
	}{
		{"the tenant's Admin", "/t/acme.example.test/ext", alice, 200},
		{"the tenant's Admin, the domain in another case", "/t/ACME.Example.Test/ext", alice, 200},
		{"the tenant's Admin, through a query", "/q?domain=acme.example.test", alice, 200},
		{"another tenant's Admin", "/t/acme.example.test/ext", olga, 404},
		{"an Admin on another tenant's route", "/t/other.example.test/ext", alice, 404},
		{"an Admin on an unknown tenant's route", "/t/nowhere.example.test/ext", alice, 404},
		{"an Admin naming no tenant", "/q?domain=", alice, 404},
		{"an Admin naming a malformed domain", "/q?domain=a%20b", alice, 404},
		{"a StandardUser of the tenant", "/t/acme.example.test/ext", bob, 403},
		{"a StandardUser on another tenant's route", "/t/other.example.test/ext", bob, 404},
		{"a SystemAdmin when only Admin is listed", "/t/acme.example.test/ext", admin, 403},
		{"a Dealer", "/t/acme.example.test/ext", dealer, 403},
		{"no token", "/t/acme.example.test/ext", "", 401},
		{"no token on an unknown tenant's route", "/t/nowhere.example.test/ext", "", 401},
		{"a wrong token", "/t/acme.example.test/ext", "nope", 401},
	} {
		status, body, challenge := get(t, admins, c.path, c.access)
		if status != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, status, body, c.status)
		}
		if status == 403 && challenge == "" {
			t.Errorf("%s: 403 without a WWW-Authenticate challenge", c.name)
		}
		if status == 404 && body != unknown {
			t.Errorf("%s: 404 answered %q, not as any unknown route", c.name, body)
		}
	}

	// Listed, SystemAdmin reaches every tenant's routes, and no more than
	// the tenants that exist.
	withSystem := tenantRoutes(t, e, pbxauth.RoleAdmin, pbxauth.RoleSystemAdmin)
	for _, c := range []struct {
		path, access string
		status       int
	}{
		{"/t/acme.example.test/ext", admin, 200},
		{"/t/OTHER.example.test/ext", admin, 200},
		{"/t/nowhere.example.test/ext", admin, 404},
		{"/q?domain=", admin, 404},
		{"/t/acme.example.test/ext", dealer, 403},
		{"/t/other.example.test/ext", alice, 404},
		{"/t/other.example.test/ext", olga, 200},
	} {
		if status, body, _ := get(t, withSystem, c.path, c.access); status != c.status {
			t.Errorf("with SystemAdmin listed, %s: %d %s, want %d", c.path, status, body, c.status)
		}
	}
	if status, body, _ := get(t, withSystem, "/t/acme.example.test/ext", admin); body != "admin" {
		t.Errorf("the SystemAdmin's principal did not reach the handler: %d %s", status, body)
	}
}

// A tenant that cannot be looked up is the store's outage, not the
// caller's fault: 503, and the handler does not run.
func TestRequireTenantRoleStoreOutage(t *testing.T) {
	st := memstore.New()
	seed(t, st)
	broken := &atomic.Bool{}
	e := newEnvWith(t, outageOfTenants{st, broken}, volatileMail)
	alice, _ := e.signIn(t, aliceCreds())
	c := tenantRoutes(t, e, pbxauth.RoleAdmin)
	broken.Store(true)
	if status, body, _ := get(t, c, "/t/acme.example.test/ext", alice); status != 503 || body == "alice" {
		t.Errorf("a tenant lookup in an outage: %d %s, want 503", status, body)
	}
}
