// Config.Passkeys: what New refuses, when passkeys are off (every route
// 404 and a start-up line), and the related origins document.

package pbxauth_test

import (
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/memstore"
)

func TestPasskeyConfigRefused(t *testing.T) {
	for name, pk := range map[string]pbxauth.PasskeyConfig{
		"IP RP ID":              {RPID: "192.0.2.1"},
		"IPv6 RP ID":            {RPID: "2001:db8::1"},
		"six related labels":    {RelatedOrigins: []string{"https://a.test", "https://b.test", "https://c.test", "https://d.test", "https://e.test", "https://f.test"}},
		"origin with a path":    {Origins: []string{"https://pbxauth.test/app"}},
		"origin without scheme": {Origins: []string{"pbxauth.test"}},
	} {
		_, err := pbxauth.New(pbxauth.Config{Store: memstore.New(), PublicURL: "http://pbxauth.test/api", EncryptionKeys: [][]byte{pkKey}, Passkeys: pk, Logger: slog.New(slog.DiscardHandler)})
		if err == nil {
			t.Errorf("%s: New accepted %+v", name, pk)
		}
	}
	ok := pbxauth.PasskeyConfig{
		Origins:        []string{"https://pbxauth.test", "android:apk-key-hash:47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"},
		RelatedOrigins: []string{"https://pbxauth.example", "https://pbxauth.example.net"},
	}
	if _, err := pbxauth.New(pbxauth.Config{Store: memstore.New(), PublicURL: "http://pbxauth.test/api", EncryptionKeys: [][]byte{pkKey}, Passkeys: ok, Logger: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatalf("New refused %+v: %v", ok, err)
	}
}

// TestPasskeysOff: without keys, or with an IP in PublicURL, every passkey
// route answers 404 and the start-up log says why.
func TestPasskeysOff(t *testing.T) {
	for name, configure := range map[string]func(*pbxauth.Config){
		"no keys": func(c *pbxauth.Config) {},
		"IP public URL": func(c *pbxauth.Config) {
			withPasskeys(c)
			c.PublicURL = "http://127.0.0.1:8887/api"
		},
	} {
		var log syncBuffer
		e := newEnv(t, configure, func(c *pbxauth.Config) { c.Logger = slog.New(slog.NewTextHandler(&log, nil)) })
		if !strings.Contains(log.String(), "passkeys are off") {
			t.Errorf("%s: start-up log: %s", name, log.String())
		}
		access, _ := e.signIn(t, aliceCreds())
		for _, rt := range [][2]string{{"POST", "/auth/passkeys/options"}, {"POST", "/auth/passkeys"}, {"GET", "/auth/passkeys"},
			{"PATCH", "/auth/passkeys/x"}, {"DELETE", "/auth/passkeys/x"}, {"POST", "/auth/sign_in/passkey/options"},
			{"POST", "/auth/sign_in/passkey"}, {"POST", "/login/passkey"}, {"POST", "/auth/verify_passkey/options"}, {"POST", "/auth/verify_passkey"}} {
			var body any
			if rt[0] != "GET" && rt[0] != "DELETE" {
				body = map[string]any{"token": "x", "name": "n"}
			}
			h := []string{"Authorization", "Bearer " + access}
			if r := e.c.Do(rt[0], rt[1], body, h...); r.Status != 404 {
				t.Errorf("%s: %s %s: %d %s", name, rt[0], rt[1], r.Status, r.Body)
			}
		}
	}
}

func TestPasskeyRelatedOriginsDocument(t *testing.T) {
	e := newEnv(t, withPasskeys, func(c *pbxauth.Config) {
		c.Passkeys.RelatedOrigins = []string{"https://pbx.example.co.uk"}
	})
	rec := httptest.NewRecorder()
	e.auth.WebAuthnRelatedOrigins().ServeHTTP(rec, httptest.NewRequest("GET", "/.well-known/webauthn", nil))
	var doc struct{ Origins []string }
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &doc) != nil || strings.Join(doc.Origins, " ") != "http://pbxauth.test https://pbx.example.co.uk" {
		t.Fatalf("well-known document: %d %s", rec.Code, rec.Body)
	}
	plain := newEnv(t, withPasskeys)
	rec = httptest.NewRecorder()
	plain.auth.WebAuthnRelatedOrigins().ServeHTTP(rec, httptest.NewRequest("GET", "/.well-known/webauthn", nil))
	if rec.Code != 404 {
		t.Fatalf("without related origins: %d", rec.Code)
	}
}
