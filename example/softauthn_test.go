package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPasskeySoftauthnTool: the example's software passkey keeps its key
// readable by its owner only and, like an authenticator, answers only
// options of its own relying party that allow it.
func TestPasskeySoftauthnTool(t *testing.T) {
	key := filepath.Join(t.TempDir(), "passkey.json")
	run := func(in string, args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := softauthnCommand(args, strings.NewReader(in), &out, &errOut)
		return out.String(), err
	}
	const creation = `{"token":"t","publicKey":{"challenge":"AAAA","rp":{"id":"localhost"},"user":{"id":"dXNlcg"}}}`
	if out, err := run(creation, "register", "-origin", "http://localhost:8887", "-key", key); err != nil || !strings.Contains(out, `"attestationObject"`) {
		t.Fatalf("register: %v %s", err, out)
	}
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the key file: %v %v, want mode 0600", fi, err)
	}
	for _, tc := range []struct{ name, options string }{
		{"another RP ID", `{"publicKey":{"challenge":"AAAA","rpId":"pbx.example.com"}}`},
		{"another credential", `{"publicKey":{"challenge":"AAAA","rpId":"localhost","allowCredentials":[{"id":"AAAA","type":"public-key"}]}}`},
		{"no challenge", `{"publicKey":{"rpId":"localhost"}}`},
	} {
		if out, err := run(tc.options, "assert", "-origin", "http://localhost:8887", "-key", key); err == nil {
			t.Errorf("%s: answered %s", tc.name, out)
		}
	}
	if out, err := run(`{"publicKey":{"challenge":"AAAA","rpId":"localhost"}}`, "assert", "-origin", "http://localhost:8887", "-key", key); err != nil || !strings.Contains(out, `"signature"`) {
		t.Errorf("assert: %v %s", err, out)
	}
	if _, err := run("", "assert", "-key", key); err == nil {
		t.Error("assert without -origin answered")
	}
}
