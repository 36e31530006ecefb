package pbxauth_test

import (
	"bytes"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/memstore"
)

// fuzzRequestDecoding posts arbitrary bodies to path: whatever arrives, the
// answer is one of the documented statuses, never a 500 or a panic, and it
// validates against the spec (error shape included).
func fuzzRequestDecoding(f *testing.F, path string, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	st := memstore.New()
	seed(f, st)
	a, err := pbxauth.New(pbxauth.Config{Store: st, Argon2: cheap, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	h := a.Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 400, 401, 413, 429:
		default:
			t.Fatalf("%q → %d %s", body, rec.Code, rec.Body)
		}
		vreq := httptest.NewRequest("POST", apitest.Prefix+path, nil)
		if err := apitest.Validate(vreq, rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
			t.Fatalf("%q → %d %s: %v", body, rec.Code, rec.Body, err)
		}
	})
}

func FuzzSignInDecoding(f *testing.F) {
	fuzzRequestDecoding(f, "/auth/sign_in",
		`{"username":"alice","password":"alice-pw-123","domain":"acme.example.test"}`,
		`{"username":"alice","password":"x","username":"bob"}`,
		`{"username":"admin","password":"p"}`,
		`{"username":".bob","password":"p","domain":"d"}`,
		`{"username":"a","password":{"x":[1,2,{"y":null}]}}`,
		`{"username":"\u00e9","password":"\ud800"}`,
		`{"username":1e999}`,
		`{} {}`, `[`, `"str"`, ``, `null`,
	)
}

func FuzzRefreshDecoding(f *testing.F) {
	fuzzRequestDecoding(f, "/auth/refresh_token",
		`{"refresh_token":"abc"}`,
		`{"refresh_token":""}`,
		`{"refresh_token":null}`,
		`{"refresh_token":"a","REFRESH_TOKEN":"b"}`,
		`{"refresh_token":["a"]}`,
		`{"a":{"b":{"c":{"d":{"e":{}}}}}}`,
	)
}
