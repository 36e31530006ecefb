// Tests of "example client": signing in with a second factor against the
// example server, the session kept in a file between runs.

package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pbxauth/pbxauth/internal/smtptest"
)

// clientRun runs "example client args..." with stdin in and the
// environment env.
func clientRun(in io.Reader, env map[string]string, args ...string) (string, error) {
	var out bytes.Buffer
	err := clientCommand(context.Background(), args, func(k string) string { return env[k] }, in, &out)
	return out.String(), err
}

// example client signs alice in with her mailed code, keeps the session in
// a file that the next runs use, and signs out.
func TestExampleClientKeepsASessionInAFile(t *testing.T) {
	mail := smtptest.Start(t, smtptest.Options{})
	url := startExample(t, nil, "-smtp", mail.Addr) + "/api"
	file := filepath.Join(t.TempDir(), "session.json")
	env := map[string]string{"PBXAUTH_CLIENT_URL": url, "PBXAUTH_CLIENT_TOKENS": file, "PBXAUTH_PASSWORD": "alice-pw-123"}

	codes, typed := io.Pipe()
	go func() {
		m := <-mail.Messages
		io.WriteString(typed, regexp.MustCompile(`\b[0-9]{6}\b`).FindString(m.Text)+"\n")
		typed.Close()
	}()
	out, err := clientRun(codes, env, "sign-in", "-domain", "acme.example.test", "alice")
	if err != nil || !strings.Contains(out, "code sent by email: ") || !strings.HasSuffix(out, "signed in as alice (Admin)\n") {
		t.Fatalf("sign-in: %v\n%s", err, out)
	}
	if out, err := clientRun(nil, env, "user"); err != nil || out != "alice (Admin)\n" {
		t.Fatalf("user: %v %q", err, out)
	}
	if out, err := clientRun(nil, env, "sessions"); err != nil || !strings.Contains(out, "*") || !strings.Contains(out, "pbxauth-example-client") {
		t.Fatalf("sessions: %v\n%s", err, out)
	}
	if out, err := clientRun(nil, env, "sign-out"); err != nil || out != "signed out\n" {
		t.Fatalf("sign-out: %v %q", err, out)
	}
	if _, err := clientRun(nil, env, "user"); err == nil || !strings.Contains(err.Error(), "not signed in") {
		t.Fatalf("user after sign-out: %v", err)
	}
}

func TestExampleClientHelp(t *testing.T) {
	out, err := clientRun(nil, nil, "-h")
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(out, "sign-in") || !strings.Contains(out, "sign-out") {
		t.Fatalf("-h: %v\n%s", err, out)
	}
	for _, cmd := range clientCmds {
		out, err := clientRun(nil, nil, cmd.name, "-h")
		if !errors.Is(err, flag.ErrHelp) || !strings.Contains(out, "usage: example client "+cmd.name) || !strings.Contains(out, "-tokens") {
			t.Fatalf("%s -h: %v\n%s", cmd.name, err, out)
		}
	}
	if _, err := clientRun(nil, nil, "sign-in"); err == nil {
		t.Fatal("sign-in without USERNAME accepted")
	}
}
