package apitest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

// TestFindSecretFindsEveryForm proves the search can fail a test: a token
// in each form, inside longer bytes at each alignment, is found, and bytes
// without it are not.
func TestFindSecretFindsEveryForm(t *testing.T) {
	raw := make([]byte, 32)
	rand.Read(raw)
	token := base64.RawURLEncoding.EncodeToString(raw)
	forms := map[string]string{
		"text":        token,
		"text hex":    hex.EncodeToString([]byte(token)),
		"text base64": base64.StdEncoding.EncodeToString([]byte(token)),
		"bytes":       string(raw),
		"bytes HEX":   strings.ToUpper(hex.EncodeToString(raw)),
		"bytes b64":   base64.StdEncoding.EncodeToString(raw),
	}
	for k := range 3 {
		around := func(b []byte) []byte { return append(append([]byte("xyz")[:k], b...), "tail"...) }
		forms["bytes in std base64, offset "+string(rune('0'+k))] = base64.StdEncoding.EncodeToString(around(raw))
		forms["text in base64url, offset "+string(rune('0'+k))] = base64.RawURLEncoding.EncodeToString(around([]byte(token)))
	}
	for name, form := range forms {
		data := []byte("prefix\x00" + form + "\x00suffix")
		if FindSecret(data, token) == "" {
			t.Errorf("%s: not found", name)
		}
	}
	other := make([]byte, 4096)
	rand.Read(other)
	if got := FindSecret(other, token); got != "" {
		t.Errorf("found %s in random bytes", got)
	}
}
