package useragent

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	long := strings.Repeat("é", 200) // 400 bytes, 2 each
	for _, c := range []struct{ in, want string }{
		{"Mozilla/5.0 (X11; Linux x86_64)", "Mozilla/5.0 (X11; Linux x86_64)"},
		{"a\x00b\tc\r\nd\x1be[31m", "abcde[31m"},
		{"a\u0085b\u009bc", "abc"},           // C1 controls
		{"safe\u202egnp.exe", "safegnp.exe"}, // bidi override
		{"zero\u200bwidth\u2028line", "zerowidthline"},
		{"bad\xffbyte\xc3", "badbyte"},
		{"keeps \uFFFD", "keeps \uFFFD"},
		{"", ""},
		{long, strings.Repeat("é", 128)},
		{"x" + long, "x" + strings.Repeat("é", 127)}, // 255 bytes: the next rune would cross 256
		{strings.Repeat("a", 300), strings.Repeat("a", 256)},
	} {
		got := Clean(c.in)
		if got != c.want {
			t.Errorf("Clean(%q) = %q, want %q", c.in, got, c.want)
		}
		if len(got) > MaxBytes || !utf8.ValidString(got) {
			t.Errorf("Clean(%q) = %q: %d bytes, valid UTF-8 %v", c.in, got, len(got), utf8.ValidString(got))
		}
	}
}

func FuzzClean(f *testing.F) {
	f.Add("Mozilla/5.0\x00\u202e")
	f.Fuzz(func(t *testing.T, s string) {
		got := Clean(s)
		if len(got) > MaxBytes || !utf8.ValidString(got) {
			t.Fatalf("Clean(%q) = %q", s, got)
		}
		for _, r := range got {
			if r < 0x20 || (r >= 0x7f && r < 0xa0) {
				t.Fatalf("Clean(%q) kept control %U", s, r)
			}
		}
	})
}
