package main

import (
	"log/slog"
	"net/http"
	"testing"
	"time"
)

// TestServerBounds: the example's http.Server bounds slow clients as
// DESIGN.md says.
func TestServerBounds(t *testing.T) {
	s := newServer(http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	for name, got := range map[string][2]time.Duration{
		"ReadHeaderTimeout": {s.ReadHeaderTimeout, 10 * time.Second},
		"ReadTimeout":       {s.ReadTimeout, 30 * time.Second},
		"WriteTimeout":      {s.WriteTimeout, 60 * time.Second},
		"IdleTimeout":       {s.IdleTimeout, 120 * time.Second},
	} {
		if got[0] != got[1] {
			t.Errorf("%s = %v, want %v", name, got[0], got[1])
		}
	}
	if s.MaxHeaderBytes != 64<<10 {
		t.Errorf("MaxHeaderBytes = %d, want 64 KiB", s.MaxHeaderBytes)
	}
}

// TestFlagsGraceAndCA: -refresh-grace and -smtp-ca are read, from flags
// and from their environment variables.
func TestFlagsGraceAndCA(t *testing.T) {
	o, err := parseFlags([]string{"-refresh-grace", "10s"}, func(k string) string {
		return map[string]string{"PBXAUTH_SMTP_CA": "/etc/ca.pem"}[k]
	})
	if err != nil || o.refreshGrace != 10*time.Second || o.smtpCA != "/etc/ca.pem" {
		t.Fatalf("parseFlags: %+v %v", o, err)
	}
	o, err = parseFlags(nil, func(k string) string { return map[string]string{"PBXAUTH_REFRESH_GRACE": "5s"}[k] })
	if err != nil || o.refreshGrace != 5*time.Second {
		t.Fatalf("PBXAUTH_REFRESH_GRACE: %+v %v", o, err)
	}
}
