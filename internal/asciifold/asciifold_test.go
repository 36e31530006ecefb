package asciifold

import "testing"

func TestFold(t *testing.T) {
	for _, c := range []struct {
		a, b  string
		equal bool
	}{
		{"Alice", "alice", true},
		{"ALICE@ACME.EXAMPLE", "alice@acme.example", true},
		{"José@EXAMPLE.com", "josé@example.com", true},
		{"É", "é", false},
		{"al\u0130ce", "alice", false}, // İ
		{"\u212Aate", "kate", false},   // Kelvin sign
		{"\u017Fam", "sam", false},     // long s
		{"ａｌｉｃｅ", "alice", false},      // fullwidth
		{"b\u0130gcorp.example", "bigcorp.example", false},
		{"", "", true},
		{"a", "ab", false},
	} {
		if got := Equal(c.a, c.b); got != c.equal {
			t.Errorf("Equal(%q, %q) = %v, want %v", c.a, c.b, got, c.equal)
		}
		if got := Lower(c.a) == Lower(c.b); got != c.equal {
			t.Errorf("Lower(%q) == Lower(%q): %v, want %v", c.a, c.b, got, c.equal)
		}
	}
}

func FuzzLower(f *testing.F) {
	for _, s := range []string{"Alice", "José", "\u212Aate", "al\u0130ce", "\xff\xfeA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l := Lower(s)
		if len(l) != len(s) {
			t.Fatalf("Lower(%q) changed the length", s)
		}
		if !Equal(s, l) || Lower(l) != l {
			t.Fatalf("Lower(%q) = %q is not Equal to it", s, l)
		}
		for i := 0; i < len(s); i++ {
			if s[i] >= 0x80 && l[i] != s[i] {
				t.Fatalf("Lower(%q) changed a non-ASCII byte", s)
			}
		}
	})
}
