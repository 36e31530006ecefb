package pbxauth

import (
	"testing"

	"github.com/pbxauth/pbxauth/memstore"
)

func TestCheckCallbackURL(t *testing.T) {
	a, err := New(Config{Store: memstore.New(), Argon2: Argon2Params{Memory: 64, Time: 1, Threads: 1},
		CallbackOrigins: []string{"https://allowed.example", "http://127.0.0.1:9999", "HTTP://Upper.Example:80"}})
	if err != nil {
		t.Fatal(err)
	}
	for raw, want := range map[string]bool{
		"https://allowed.example/cb?x=1":          true,
		"https://ALLOWED.example:443/cb":          true,
		"http://127.0.0.1:9999/done":              true,
		"http://upper.example/x":                  true,
		"https://evil.example/cb":                 false,
		"//evil.example/cb":                       false,
		"http://allowed.example/cb":               false, // other scheme
		"https://allowed.example:8443/cb":         false, // other port
		"http://127.0.0.1:9998/":                  false,
		"javascript:alert(1)":                     false,
		"https://allowed.example@evil.example/":   false,
		"https://evil.example\\@allowed.example/": false,
		"/relative":                             false,
		"":                                      false,
		"https://allowed.example.evil.example/": false,
		"ftp://allowed.example/":                false,
		"https://user:pw@allowed.example/":      false,
	} {
		_, e := a.checkCallbackURL(raw)
		if got := e == nil; got != want {
			t.Errorf("%q: allowed=%v, want %v", raw, got, want)
		}
	}
	for _, bad := range []string{"https://x.example/path?q=1", "https://x.example/a/../b", "x.example"} {
		if _, err := New(Config{Store: memstore.New(), CallbackOrigins: []string{bad}}); err == nil {
			t.Errorf("callback origin %q was accepted", bad)
		}
	}
}

func TestNewChecksURLs(t *testing.T) {
	for _, bad := range []Config{
		{PublicURL: "pbx.example.com/api"},
		{PublicURL: "/api"},
		{PublicURL: "ftp://pbx.example.com/api"},
		{PublicURL: "https://pbx.example.com/api?x=1"},
		{MicrosoftRedirectURL: "/ms365/callback"},
	} {
		bad.Store = memstore.New()
		if _, err := New(bad); err == nil {
			t.Errorf("New accepted %+v", bad)
		}
	}
	if _, err := New(Config{Store: memstore.New(), PublicURL: "https://pbx.example.com:8887/api"}); err != nil {
		t.Errorf("New refused a good PublicURL: %v", err)
	}
}
