// This file checks that what a Store wrote is there after it is closed and
// the database opened again, as after a restart of the host.

package sqlstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth/sqlstore"
	"github.com/pbxauth/pbxauth/store"
)

func TestReopen(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		dsn := b.fresh(t)
		first, err := openDSN(ctx, dsn, sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		alice := addUser(t, first, "alice")
		bob := addUser(t, first, "bob")
		_, access, refresh := signIn(t, first, "alice", "rotated")
		_, revokedAccess, _ := signIn(t, first, "bob", "revoked")
		rotatedAt := t0.Add(time.Minute)
		if _, err := first.RotateRefresh(ctx, refresh, rotatedAt, nextTokens("rotated", "next")...); err != nil {
			t.Fatal(err)
		}
		if err := first.RevokeFamily(ctx, "revoked"); err != nil {
			t.Fatal(err)
		}
		if err := first.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := first.PutSystem(ctx, store.System{}); err == nil {
			t.Errorf("PutSystem after Close succeeded")
		}

		st := open(t, dsn)
		for _, want := range []store.User{alice, bob} {
			if got, err := st.User(ctx, want.ID); err != nil || got != want {
				t.Errorf("User(%s) after reopening = %+v, %v; want %+v", want.ID, got, err, want)
			}
		}
		if g, err := st.Grant(ctx, access, store.AccessToken, rotatedAt); err != nil || g.User.ID != "alice" {
			t.Errorf("Grant of the first access token after reopening = %+v, %v", g, err)
		}
		if _, err := st.Grant(ctx, store.HashToken("refresh next"), store.RefreshToken, rotatedAt); err != nil {
			t.Errorf("Grant of the rotated-in refresh token after reopening: %v", err)
		}
		g, err := st.RotateRefresh(ctx, refresh, rotatedAt.Add(time.Minute))
		if !errors.Is(err, store.ErrTokenReused) || !g.Token.UsedAt.Equal(rotatedAt) {
			t.Errorf("RotateRefresh of the rotated token after reopening = %+v, %v; want UsedAt %v and ErrTokenReused",
				g.Token, err, rotatedAt)
		}
		if _, err := st.Grant(ctx, revokedAccess, store.AccessToken, rotatedAt); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Grant in the revoked family after reopening: %v; want ErrNotFound", err)
		}
	})
}
