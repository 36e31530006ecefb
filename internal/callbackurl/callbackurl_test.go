package callbackurl

import (
	"errors"
	"testing"
)

func TestCheck(t *testing.T) {
	l, err := Parse([]string{"https://App.Example.com", "http://127.0.0.1:9999/", "https://exact.example/signed-in", "https://exact.example/a%20b"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		url  string
		want error
	}{
		{"https://app.example.com/anything?x=1", nil},
		{"HTTPS://APP.EXAMPLE.COM:443/", nil},
		{"https://app.example.com", nil},
		{"https://app.example.com/a/", nil},
		{"http://127.0.0.1:9999/reset", nil},
		{"https://exact.example/signed-in", nil},
		{"https://exact.example/signed-in?from=pbx", nil},
		{"https://exact.example/a%20b", nil},
		{"https://exact.example/signed-in/", ErrNotAllowed},
		{"https://exact.example/Signed-in", ErrNotAllowed},
		{"https://exact.example/signed-in2", ErrNotAllowed},
		{"https://exact.example/", ErrNotAllowed},
		{"https://exact.example/a b", nil}, // the space escapes to the allowed a%20b
		{"https://exact.example/x/../signed-in", ErrMalformed},
		{"https://exact.example/%2e%2E/signed-in", ErrMalformed},
		{"https://exact.example/./signed-in", ErrMalformed},
		{"https://exact.example/signed-in/.", ErrMalformed},
		{"https://exact.example/x%2fsigned-in", ErrMalformed},
		{"https://exact.example/x%5Csigned-in", ErrMalformed},
		{"https://exact.example/x\\signed-in", ErrMalformed},
		{"https://exact.example//signed-in", ErrMalformed},
		{"https://exact.example/a//b", ErrMalformed},
		{"https://exact.example/signed-in#frag", ErrMalformed},
		{"https://exact.example/signed-in#", ErrMalformed},
		{"https://app.example.com:444/", ErrNotAllowed},
		{"http://app.example.com/", ErrNotAllowed},
		{"https://evil.example/", ErrNotAllowed},
		{"//app.example.com/", ErrNotAllowed},
		{"https://user@app.example.com/", ErrNotAllowed},
		{"javascript:alert(1)", ErrNotAllowed},
		{"/relative", ErrNotAllowed},
		{"", ErrNotAllowed},
	} {
		_, err := l.Check(tc.url)
		if (tc.want == nil) != (err == nil) || !errors.Is(err, tc.want) {
			t.Errorf("Check(%q) = %v, want %v", tc.url, err, tc.want)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for _, bad := range []string{"app.example.com", "https://app.example.com/?q=1", "https://app.example.com/#f",
		"https://u@app.example.com", "ftp://app.example.com", "https://app.example.com/a/../b", "https://app.example.com//x"} {
		if _, err := Parse([]string{bad}); err == nil {
			t.Errorf("Parse(%q) = nil error, want a refusal", bad)
		}
	}
}
