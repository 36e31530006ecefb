package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/internal/hasher"
	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/store"
)

// TestRegisterThenSignIn drives the passkey routes of a real Auth with
// the command, as a walk-through would.
func TestRegisterThenSignIn(t *testing.T) {
	cheap := pbxauth.Argon2Params{Memory: 64, Time: 1, Threads: 1}
	st := memstore.New()
	ctx := context.Background()
	if err := st.CreateUser(ctx, store.User{ID: "u1", Username: "admin", Role: pbxauth.RoleSystemAdmin,
		PasswordHash: hasher.Hash("admin-pw-123", hasher.Params(cheap))}); err != nil {
		t.Fatal(err)
	}
	a, err := pbxauth.New(pbxauth.Config{Store: st, Argon2: cheap, PublicURL: "http://localhost:8887/api",
		EncryptionKeys: [][]byte{bytes.Repeat([]byte{1}, 32)}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	c := apitest.Serve(t, a.Handler(), nil)
	file := filepath.Join(t.TempDir(), "admin.passkey")
	use := func(cmd string, options []byte) json.RawMessage {
		t.Helper()
		var out bytes.Buffer
		if err := run(cmd, file, "http://localhost:8887", false, bytes.NewReader(options), &out); err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		return out.Bytes()
	}
	access := c.Do("POST", "/auth/sign_in", map[string]any{"username": "admin", "password": "admin-pw-123"}).String("access_token")
	opts := c.Do("POST", "/auth/passkeys/options", map[string]any{}, apitest.Bearer(access)...)
	reg := c.Do("POST", "/auth/passkeys", map[string]any{"token": opts.String("token"), "credential": use("register", opts.Body)}, apitest.Bearer(access)...)
	if reg.Status != 201 {
		t.Fatalf("register: %d %s", reg.Status, reg.Body)
	}
	for range 2 {
		opts = c.Do("POST", "/auth/sign_in/passkey/options", map[string]any{})
		r := c.Do("POST", "/auth/sign_in/passkey", map[string]any{"token": opts.String("token"), "credential": use("assert", opts.Body)})
		if r.Status != 200 || r.String("access_token") == "" {
			t.Fatalf("sign in: %d %s", r.Status, r.Body)
		}
	}
}
