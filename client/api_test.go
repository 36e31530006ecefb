// Tests of the signed-in user's routes and of the other ways in: a
// session list and revocation, sign-out scopes, a refresh token from
// elsewhere, and a wrong second-factor code.

package client_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/pbxauth/pbxauth/client"
)

func TestSessionsRevokeAndSignOutScopes(t *testing.T) {
	ctx := context.Background()
	s := newServer(t)
	var bSignedOut atomic.Int64
	a, b, c := s.newClient(t), s.newClient(t, func(cfg *client.Config) { cfg.OnSignedOut = func() { bSignedOut.Add(1) } }), s.newClient(t)
	for _, x := range []*client.Client{a, b, c} {
		signIn(t, x)
	}
	list, err := a.Sessions(ctx)
	if err != nil || len(list) != 3 {
		t.Fatalf("Sessions: %v, %v", list, err)
	}
	var current int
	for _, ss := range list {
		if ss.Current {
			current++
		}
	}
	if current != 1 {
		t.Fatalf("%d sessions marked current", current)
	}
	// Revoke b's sign-in by its id, as b lists it.
	bList, _ := b.Sessions(ctx)
	var bID string
	for _, ss := range bList {
		if ss.Current {
			bID = ss.ID
		}
	}
	if err := a.RevokeSession(ctx, bID); err != nil {
		t.Fatal(err)
	}
	var ae *client.APIError
	if err := a.RevokeSession(ctx, bID); !errors.As(err, &ae) || ae.Status != 404 {
		t.Fatalf("revoking it again: %v", err)
	}
	if _, err := b.User(ctx); !errors.Is(err, client.ErrSignedOut) || bSignedOut.Load() != 1 {
		t.Fatalf("b after revocation: %v, OnSignedOut %d", err, bSignedOut.Load())
	}
	if err := a.SignOut(ctx, client.ScopeOthers); err != nil {
		t.Fatal(err)
	}
	if _, err := c.User(ctx); !errors.Is(err, client.ErrSignedOut) {
		t.Fatalf("c after sign_out?scope=others: %v", err)
	}
	if _, err := a.User(ctx); err != nil {
		t.Fatalf("a after sign_out?scope=others: %v", err)
	}
	if err := a.SignOut(ctx, client.ScopeOwn); err != nil {
		t.Fatal(err)
	}
	if _, err := a.User(ctx); !errors.Is(err, client.ErrSignedOut) {
		t.Fatalf("a after its sign-out: %v", err)
	}
	if err := a.SignOut(ctx, client.ScopeOwn); err != nil {
		t.Fatalf("signing out twice: %v", err)
	}
}

func TestSignInWithRefreshToken(t *testing.T) {
	ctx := context.Background()
	s := newServer(t)
	first := s.newClient(t)
	signIn(t, first)
	tok, _ := first.Token(ctx)
	second := s.newClient(t)
	if err := second.SignInWithRefreshToken(ctx, tok.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if u, err := second.User(ctx); err != nil || u.Username != "alice" {
		t.Fatalf("User: %+v, %v", u, err)
	}
	if got, _ := second.Token(ctx); got.RefreshToken == tok.RefreshToken {
		t.Fatal("the refresh token was not rotated")
	}
	if err := s.newClient(t).SignInWithRefreshToken(ctx, "not-a-token"); !errors.Is(err, client.ErrSignedOut) {
		t.Fatalf("a dead refresh token: %v", err)
	}
}

func TestSecondFactorWrongCode(t *testing.T) {
	ctx := context.Background()
	s := newServer(t)
	c := s.newClient(t)
	sf, err := c.SignIn(ctx, "bob", bobPW)
	if err != nil || sf == nil {
		t.Fatalf("SignIn: %v, %v", sf, err)
	}
	var ae *client.APIError
	if err := sf.Verify(ctx, "000000"); !errors.As(err, &ae) || ae.Status != 401 || ae.Code != "UNAUTHORIZED" {
		t.Fatalf("wrong code: %v", err)
	}
	if _, err := c.User(ctx); !errors.Is(err, client.ErrSignedOut) {
		t.Fatalf("not signed in yet: %v", err)
	}
	if _, err := c.SignIn(ctx, "alice", "wrong-password"); !errors.As(err, &ae) || ae.Status != 401 {
		t.Fatalf("wrong password: %v", err)
	}
}
