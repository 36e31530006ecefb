// Tests of the passkey second factor against a stand-in that speaks
// DESIGN.md's wire (POST /auth/verify_passkey/options {"token"} →
// {"publicKey"}; POST /auth/verify_passkey {"token","credential"} → what
// verify_otp answers): pbxauth's own routes are not there yet.

package client_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/pbxauth/pbxauth/client"
)

func TestPasskeySecondFactorWire(t *testing.T) {
	const flow, options, credential = "flow-token", `{"challenge":"Y2g","rpId":"pbx.example.test","allowCredentials":[]}`, `{"id":"cred","type":"public-key"}`
	mux := http.NewServeMux()
	answer := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("POST /api/auth/sign_in", func(w http.ResponseWriter, r *http.Request) {
		answer(w, map[string]any{"two_factor_enabled": true, "token": flow})
	})
	mux.HandleFunc("POST /api/auth/verify_passkey/options", func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		if json.NewDecoder(r.Body).Decode(&body) != nil || body["token"] != flow || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("options request: %v", body)
		}
		answer(w, map[string]json.RawMessage{"publicKey": json.RawMessage(options)})
	})
	mux.HandleFunc("POST /api/auth/verify_passkey", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Token      string          `json:"token"`
			Credential json.RawMessage `json:"credential"`
		}
		if json.NewDecoder(r.Body).Decode(&body) != nil || body.Token != flow || string(body.Credential) != credential {
			t.Errorf("verify request: %+v", body)
		}
		answer(w, map[string]any{"access_token": "access", "expires_in": 3600, "refresh_token": "refresh", "token_type": "Bearer"})
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx := context.Background()
	c, _ := client.New(client.Config{BaseURL: srv.URL + "/api"})
	sf, err := c.SignIn(ctx, "bob", "pw")
	if err != nil || sf == nil {
		t.Fatalf("SignIn: %v, %v", sf, err)
	}
	opts, err := sf.PasskeyOptions(ctx)
	if err != nil || string(opts) != options {
		t.Fatalf("PasskeyOptions: %s, %v", opts, err)
	}
	if err := sf.VerifyPasskey(ctx, json.RawMessage(credential)); err != nil {
		t.Fatal(err)
	}
	if tok, err := c.Token(ctx); err != nil || tok.AccessToken != "access" || tok.RefreshToken != "refresh" {
		t.Fatalf("Token: %+v, %v", tok, err)
	}
}
