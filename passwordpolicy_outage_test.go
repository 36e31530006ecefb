package pbxauth_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/store"
)

// policyOutage is a memory store whose password policies are unreachable
// once broken is set.
type policyOutage struct {
	*memstore.Store
	broken atomic.Bool
}

func (s *policyOutage) PasswordPolicy(ctx context.Context, tenantID string) (store.PasswordPolicy, error) {
	if s.broken.Load() {
		return store.PasswordPolicy{}, errOutage
	}
	return s.Store.PasswordPolicy(ctx, tenantID)
}

func (s *policyOutage) PutPasswordPolicy(ctx context.Context, p store.PasswordPolicy) error {
	if s.broken.Load() {
		return errOutage
	}
	return s.Store.PutPasswordPolicy(ctx, p)
}

// TestPasswordPolicyOutage: a policy that cannot be read is 503, never a
// password let through unjudged.
func TestPasswordPolicyOutage(t *testing.T) {
	st := &policyOutage{Store: memstore.New()}
	seed(t, st.Store)
	e := newEnvWith(t, st)
	alice, _ := e.signIn(t, aliceCreds())
	st.broken.Store(true)
	if r := e.c.Do("GET", policyPath, nil, apitest.Bearer(alice)...); r.Status != 503 {
		t.Errorf("GET in an outage: %d %s", r.Status, r.Body)
	}
	if r := e.c.Do("POST", policyPath, map[string]any{"contains_numbers": true}, apitest.Bearer(alice)...); r.Status != 503 {
		t.Errorf("POST in an outage: %d %s", r.Status, r.Body)
	}
	_, err := e.auth.CreateUser(context.Background(), pbxauth.NewUser{Domain: acmeDomain, Username: "carol", Password: "carol-pw-123", Role: "StandardUser"})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("CreateUser in an outage: %v", err)
	}
	if _, err := st.UserByName(context.Background(), acmeID, "carol"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the user created in an outage: %v", err)
	}
	if err := e.auth.SetPassword(context.Background(), aliceID, "another-pw-123", false); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("SetPassword in an outage: %v", err)
	}
}
