// Package useragent makes a User-Agent header fit to be kept with a sign-in
// and shown in a list of sessions.
package useragent

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxBytes is the most bytes Clean returns.
const MaxBytes = 256

// Clean returns s without control characters, cut at a rune boundary to at
// most MaxBytes bytes. Removed are invalid UTF-8, C0 and C1 controls (Cc),
// format characters (Cf: bidirectional overrides, zero-width joiners, which
// can make a listed agent read as another) and the line and paragraph
// separators, so that neither a terminal nor a page showing it interprets
// anything and no client makes a record large.
func Clean(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD") {
			continue // an invalid byte, not a real U+FFFD
		}
		if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) {
			continue
		}
		if b.Len()+utf8.RuneLen(r) > MaxBytes {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}
