// Package redact removes a client secret from what an identity provider
// answers, before any of it is logged. An IdP that echoes the request it
// was sent may return the secret in any of the forms the request carried
// it or the IdP re-encoded it: as is, form-encoded (the body's
// client_secret), path-escaped, JSON-escaped or Go-quoted, or inside the
// base64 of a basic Authorization header, whose id and secret RFC 6749
// §2.3.1 form-encodes before joining them with a colon.
package redact

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Marker replaces each form of the secret.
const Marker = "[client secret]"

// Secret removes one client's secret from text.
type Secret struct {
	forms []string // longest first, so that no form is left half removed
}

// New returns the remover of secret, the secret of client id. An empty
// secret removes nothing.
func New(id, secret string) *Secret {
	if secret == "" {
		return &Secret{}
	}
	var forms []string
	add := func(f string) {
		if f != "" && !slices.Contains(forms, f) {
			forms = append(forms, f)
		}
	}
	for _, s := range []string{secret, url.QueryEscape(secret), url.PathEscape(secret)} {
		add(s)
		add(lowerHex(s))
	}
	add(jsonEscaped(secret, true))
	add(jsonEscaped(secret, false))
	add(strings.Trim(strconv.Quote(secret), `"`))
	add(strings.Trim(strconv.QuoteToASCII(secret), `"`))
	for _, pair := range []string{id + ":" + secret, url.QueryEscape(id) + ":" + url.QueryEscape(secret)} {
		// Unpadded: the padded forms begin with these.
		add(base64.RawStdEncoding.EncodeToString([]byte(pair)))
		add(base64.RawURLEncoding.EncodeToString([]byte(pair)))
	}
	slices.SortStableFunc(forms, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	return &Secret{forms: forms}
}

// Remove returns text with every form of the secret replaced by Marker.
func (s *Secret) Remove(text string) string {
	for _, f := range s.forms {
		text = strings.ReplaceAll(text, f, Marker)
	}
	return text
}

// Cut returns at most max characters of text, cut at a rune boundary.
// Cut after Remove: a cut before could leave part of a form that Remove
// no longer recognises.
func Cut(text string, max int) string {
	if utf8.RuneCountInString(text) <= max {
		return text
	}
	i := 0
	for n := 0; n < max; n++ {
		_, size := utf8.DecodeRuneInString(text[i:])
		i += size
	}
	return text[:i]
}

// jsonEscaped is secret inside a JSON string, with or without Go's
// escaping of <, > and &.
func jsonEscaped(secret string, html bool) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(html)
	if err := enc.Encode(secret); err != nil {
		return ""
	}
	return strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(b.String()), `"`), `"`)
}

// lowerHex is s with the hex digits of its percent escapes in lower case,
// as some encoders write them.
func lowerHex(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1], b[i+2] = lower(b[i+1]), lower(b[i+2])
		}
	}
	return string(b)
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'F' {
		return c + 'a' - 'A'
	}
	return c
}
