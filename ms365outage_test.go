// What the Microsoft 365 routes and the callback do when the Store's
// bindings and rules fail: 503 with nothing changed, and a sign-in that
// cannot read its rules lands as server_error, never admitted.

package pbxauth_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/store"
)

// outageBindings is a memory store whose Microsoft bindings and rules are
// unavailable while broken is set.
type outageBindings struct {
	*memstore.Store
	broken atomic.Bool
}

func (o *outageBindings) fail() error {
	if o.broken.Load() {
		return errOutage
	}
	return nil
}

func (o *outageBindings) BindMicrosoft(ctx context.Context, b store.MicrosoftBinding) error {
	if err := o.fail(); err != nil {
		return err
	}
	return o.Store.BindMicrosoft(ctx, b)
}

func (o *outageBindings) MicrosoftRules(ctx context.Context, tenantID string) (store.MicrosoftRules, error) {
	if err := o.fail(); err != nil {
		return store.MicrosoftRules{}, err
	}
	return o.Store.MicrosoftRules(ctx, tenantID)
}

func (o *outageBindings) MicrosoftBinding(ctx context.Context, tenantID, key string) (store.MicrosoftBinding, error) {
	if err := o.fail(); err != nil {
		return store.MicrosoftBinding{}, err
	}
	return o.Store.MicrosoftBinding(ctx, tenantID, key)
}

func TestMs365StoreOutage(t *testing.T) {
	o := &outageBindings{}
	e, admin := newBindingEnv(t, func(c *pbxauth.Config) { o.Store = c.Store.(*memstore.Store); c.Store = o })
	o.broken.Store(true)
	if r := e.bind(admin, erinID, erinOID); r.Status != 503 || r.Code() != "UNAVAILABLE" {
		t.Errorf("bind: %d %s, want 503", r.Status, r.Body)
	}
	if r := e.ms365(admin, ""); r.Status != 503 {
		t.Errorf("GET /ms365: %d %s, want 503", r.Status, r.Body)
	}
	if r := e.setMS365(admin, "", map[string]any{"sign_in_as_standard_user": map[string]any{"enabled": false}}); r.Status != 503 {
		t.Errorf("POST /ms365: %d %s, want 503", r.Status, r.Body)
	}
	wantRefused(t, e.signInAs(t, alice()), "server_error")
	o.broken.Store(false)
	if k := e.bindingOf(t, erinID); k != "" {
		t.Errorf("binding after the outage: %q", k)
	}
	e.wantLink(t, "oid:oid-alice", "")
	if r := e.ms365(admin, ""); rule(t, r, "sign_in_as_standard_user")["enabled"] != true {
		t.Errorf("rules after the outage: %s", r.Body)
	}
	e.exchange(t, e.signInAs(t, alice()))
}
