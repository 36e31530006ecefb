package apitest

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// FindSecret reports in which form secret occurs in data, or "" when it
// occurs in none, as someone holding a copy of a database would look: the
// text itself, its hex (either case) and base64 (standard or URL alphabet,
// padded or not, also inside a longer encoded value, whatever the
// alignment), and, when secret is base64url (as pbxauth's and scs's tokens
// are), the same for the bytes it encodes.
func FindSecret(data []byte, secret string) string {
	sources := map[string][]byte{"text": []byte(secret)}
	if b, err := base64.RawURLEncoding.DecodeString(secret); err == nil && len(b) >= 16 {
		sources["decoded"] = b
	}
	for name, b := range sources {
		if bytes.Contains(data, b) {
			return name
		}
		h := []byte(hex.EncodeToString(b))
		if bytes.Contains(data, h) || bytes.Contains(data, bytes.ToUpper(h)) {
			return name + " in hex"
		}
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			// With k bytes before it, the first group of four characters
			// mixes in those bytes and the last one the bytes after:
			// the groups between depend on b alone.
			for k := range 3 {
				s := enc.EncodeToString(append(make([]byte, k), b...))
				from := 0
				if k > 0 {
					from = 4
				}
				if bytes.Contains(data, []byte(s[from:len(s)-4])) {
					return fmt.Sprintf("%s in base64 at offset %d", name, k)
				}
			}
		}
	}
	return ""
}
