// Tests of the request line's own formatting: byte for byte what
// slog.TextHandler writes, or left to it.

package main

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
)

func TestRequestLineIsSlogText(t *testing.T) {
	end := time.Date(2030, 1, 2, 3, 4, 5, 678912345, time.FixedZone("x", 3600))
	info := pbxauth.RequestInfo{ID: "4EGNO63AANEE2PWECZBTCFXXYU", ClientIP: "2001:db8::5", UserID: "Z78_xa6-RqxBFGCgqo8Rfw"}
	var st stamps
	for _, tc := range []struct {
		name string
		line requestLine
		fast bool
	}{
		{"signed in", requestLine{end, "GET", "/api/auth/user", 200, 1234567 * time.Nanosecond, info}, true},
		{"no user", requestLine{end.UTC(), "POST", "/api/auth/sign_in", 401, 48 * time.Millisecond, pbxauth.RequestInfo{ID: "proxy-req-5:lockout", ClientIP: "fwd:_hidden"}}, true},
		{"path with a space", requestLine{end, "GET", "/a b", 404, time.Microsecond, info}, false},
		{"path with an equals sign", requestLine{end, "GET", "/a=b", 404, time.Microsecond, info}, false},
		{"path with a quote", requestLine{end, "GET", `/a"b`, 404, time.Microsecond, info}, false},
		{"path with a backslash", requestLine{end, "GET", `/a\b`, 404, time.Microsecond, info}, true},
		{"non-ASCII path", requestLine{end, "GET", "/caf\u00e9", 404, time.Microsecond, info}, false},
		{"empty path", requestLine{end, "GET", "", 400, time.Microsecond, info}, false},
		{"same instant, other zone", requestLine{end.UTC(), "GET", "/", 200, time.Microsecond, info}, true},
		{"same millisecond, first zone", requestLine{end.Add(time.Microsecond), "GET", "/", 200, time.Microsecond, info}, true},
		{"next millisecond", requestLine{end.Add(time.Millisecond), "GET", "/", 200, time.Microsecond, info}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want bytes.Buffer
			slog.NewTextHandler(&want, nil).Handle(context.Background(), tc.line.record())
			got, ok := tc.line.appendText(nil, &st) // one cache through every case, as the writer's
			if ok != tc.fast {
				t.Fatalf("formatted itself: %v, want %v", ok, tc.fast)
			}
			if ok && string(got) != want.String() {
				t.Errorf("got  %s\nwant %s", got, want.String())
			}
		})
	}
}
