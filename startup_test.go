// Tests of what New logs at start about features that are off or unsafe:
// one WARN line each, and nothing for a configuration that has them all.

package pbxauth_test

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/memstore"
)

func TestStartupWarnsOfFeaturesOffOrUnsafe(t *testing.T) {
	key := make([]byte, 32)
	notices := map[string]string{
		"apps":     "authenticator apps are off",
		"nomail":   "no Config.Mailer",
		"logmail":  "mails are written to the log",
		"insecure": "Config.InsecureCookies",
	}
	for _, tc := range []struct {
		name string
		cfg  func(*pbxauth.Config)
		want []string
	}{
		{"all on and safe", func(c *pbxauth.Config) {
			c.EncryptionKeys, c.Mailer = [][]byte{key}, &pbxauth.SMTPMailer{Host: "mail.example.test"}
		}, nil},
		{"no keys", func(c *pbxauth.Config) { c.Mailer = &pbxauth.SMTPMailer{Host: "mail.example.test"} }, []string{"apps"}},
		{"no mailer", func(c *pbxauth.Config) { c.EncryptionKeys = [][]byte{key} }, []string{"nomail"}},
		{"mail to the log", func(c *pbxauth.Config) {
			c.EncryptionKeys, c.Mailer = [][]byte{key}, pbxauth.LogMailer{Logger: slog.New(slog.DiscardHandler)}
		}, []string{"logmail"}},
		{"insecure cookies, everything else off", func(c *pbxauth.Config) {
			c.InsecureCookies, c.Mailer = true, &pbxauth.LogMailer{}
		}, []string{"apps", "logmail", "insecure"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs syncBuffer
			cfg := pbxauth.Config{Store: memstore.New(), Argon2: cheap, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
			tc.cfg(&cfg)
			a, err := pbxauth.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			for name, notice := range notices {
				want := 0
				for _, w := range tc.want {
					if w == name {
						want = 1
					}
				}
				if got := logs.count(notice); got != want {
					t.Errorf("%q logged %d times, want %d:\n%s", notice, got, want, logs.String())
				}
			}
			for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				if line != "" && !strings.Contains(line, "level=WARN") {
					t.Errorf("not a warning: %s", line)
				}
			}
		})
	}
}
