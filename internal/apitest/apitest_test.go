package apitest

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestValidateCatchesWrongAnswers proves the validation can fail: a field
// of the wrong type or name, and an error body of another shape, are caught.
func TestValidateCatchesWrongAnswers(t *testing.T) {
	json := http.Header{"Content-Type": {"application/json"}}
	for _, tc := range []struct {
		name, method, path string
		status             int
		body               string
		ok                 bool
	}{
		{"token pair", "POST", "/auth/sign_in", 200, `{"token_type":"Bearer","access_token":"a","refresh_token":"r","expires_in":3600}`, true},
		{"second factor", "POST", "/auth/sign_in", 200, `{"two_factor_enabled":true,"token":"f"}`, true},
		{"expires_in as string", "POST", "/auth/sign_in", 200, `{"token_type":"Bearer","access_token":"a","refresh_token":"r","expires_in":"3600"}`, false},
		{"misspelt field", "POST", "/auth/sign_in", 200, `{"token_type":"Bearer","accessToken":"a","refresh_token":"r","expires_in":3600}`, false},
		{"user: role as number", "GET", "/auth/user", 200, `{"role":7,"password_verified":true,"password_force_reset":false}`, false},
		{"user: misspelt field", "GET", "/auth/user", 200, `{"role":"Admin","passwordVerified":true,"password_force_reset":false}`, false},
		{"refresh: extra field", "POST", "/auth/refresh_token", 200, `{"token_type":"Bearer","access_token":"a","refresh_token":"r","expires_in":1,"scope":"x"}`, false},
		{"login: date", "GET", "/login", 200, `{"access_token":"a","expires_at":"2030-01-02T03:04:05Z","expires_in":5,"role":"Admin"}`, true},
		{"login: bad date", "GET", "/login", 200, `{"access_token":"a","expires_at":"yesterday","expires_in":5,"role":"Admin"}`, false},
		{"info: bool as string", "GET", "/info", 200, `{"web_domain":"x","enable_ipv6":"no"}`, false},
		{"error shape", "POST", "/auth/sign_in", 401, `{"errors":[{"code":"UNAUTHORIZED","message":"invalid credentials"}]}`, true},
		{"error of another shape", "POST", "/auth/sign_in", 401, `{"error":"unauthorized"}`, false},
		{"error with extra field", "POST", "/auth/sign_in", 400, `{"errors":[{"code":"X","message":"m","detail":"stack"}]}`, false},
		{"error with a reason", "POST", "/auth/totp/confirm", 400, `{"errors":[{"code":"INVALID_ARGUMENT","message":"m","reason":"credentials_changed"}]}`, true},
		{"error with an unknown reason", "POST", "/auth/totp/confirm", 400, `{"errors":[{"code":"INVALID_ARGUMENT","message":"m","reason":"because"}]}`, false},
		{"error with a reason that is no string", "POST", "/auth/totp/confirm", 400, `{"errors":[{"code":"INVALID_ARGUMENT","message":"m","reason":7}]}`, false},
	} {
		req := httptest.NewRequest(tc.method, Prefix+tc.path, nil)
		err := Validate(req, tc.status, json, []byte(tc.body))
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}
