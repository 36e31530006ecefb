package redact

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
)

func TestRemove(t *testing.T) {
	const id, secret = "app id", `s3cr"et\ <&> +/%é=`
	s := New(id, secret)
	for name, text := range map[string]string{
		"as is":             secret,
		"form-encoded":      url.QueryEscape(secret),
		"lower-case hex":    strings.ToLower(url.QueryEscape(secret)),
		"path-escaped":      url.PathEscape(secret),
		"JSON-escaped":      `s3cr\"et\\ \u003c\u0026\u003e +/%é=`,
		"JSON without HTML": `s3cr\"et\\ <&> +/%é=`,
		"Go-quoted ASCII":   `s3cr\"et\\ <&> +/%\u00e9=`,
		"basic header":      "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret))),
		"basic, unencoded":  base64.StdEncoding.EncodeToString([]byte(id + ":" + secret)),
		"base64url":         base64.URLEncoding.EncodeToString([]byte(id + ":" + secret)),
	} {
		got := s.Remove("before " + text + " after")
		if !strings.Contains(got, Marker) || strings.Contains(got, "s3cr") {
			t.Errorf("%s: %q", name, got)
		}
	}
	if got := New(id, "").Remove("nothing to remove"); got != "nothing to remove" {
		t.Errorf("empty secret: %q", got)
	}
}

func TestCut(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"exactly", 7, "exactly"},
		{"ééééé", 3, "ééé"},
		{"abc", 0, ""},
	} {
		if got := Cut(tc.in, tc.max); got != tc.want {
			t.Errorf("Cut(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}
