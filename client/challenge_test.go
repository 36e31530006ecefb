// This file tests how a 401's challenge is read: only an error parameter
// invalid_token asks for a refresh.

package client

import (
	"net/http"
	"testing"
)

func TestInvalidTokenChallenge(t *testing.T) {
	for _, c := range []struct {
		challenge string
		want      bool
	}{
		{`Bearer realm="pbxauth", error="invalid_token"`, true},
		{`Bearer realm="pbxauth",error=invalid_token`, true},
		{`Bearer ERROR = "invalid_token" , realm="x"`, true},
		{`Basic realm="a", Bearer realm="pbxauth", error="invalid_token", error_description="the \"token\" ended"`, true},
		{`Bearer realm="pbxauth"`, false},
		{`Bearer realm="invalid_token"`, false},
		{`Bearer realm="say error=\"invalid_token\" here"`, false},
		{`Bearer realm="pbxauth", error="insufficient_scope"`, false},
		{`Bearer error_description="invalid_token"`, false},
		{`"invalid_token"`, false},
		{`Bearer realm="unterminated, error=invalid_token`, false},
		{``, false},
	} {
		h := http.Header{}
		if c.challenge != "" {
			h.Set("WWW-Authenticate", c.challenge)
		}
		if got := invalidToken(h); got != c.want {
			t.Errorf("invalidToken(%q) = %v, want %v", c.challenge, got, c.want)
		}
	}
}
