package recoverycode

import (
	"bytes"
	"strings"
	"testing"
)

func TestCodes(t *testing.T) {
	h, err := NewHasher(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for range 100 {
		c := New()
		if len(c) != Length+1 || c[5] != '-' || seen[c] {
			t.Fatalf("code %q malformed or repeated", c)
		}
		seen[c] = true
		want, ok := h.Hash("u1", c)
		if !ok {
			t.Fatalf("Hash(%q) refused its own code", c)
		}
		for _, typed := range []string{strings.ToLower(c), strings.ReplaceAll(c, "-", " "), strings.ReplaceAll(c, "-", ""), " " + c + " "} {
			if got, ok := h.Hash("u1", typed); !ok || got != want {
				t.Errorf("%q hashes unlike %q", typed, c)
			}
		}
		if other, _ := h.Hash("u2", c); other == want {
			t.Error("two users' hashes of one code are alike")
		}
	}
	if a, _ := h.Hash("u", "0O1IL-ABCDE"); a != func() string { s, _ := h.Hash("u", "00111-ABCDE"); return s }() {
		t.Error("look-alike letters are not read as digits")
	}
	for _, bad := range []string{"", "ABCDE", "ABCDE-ABCDEF", "ABCDE-ABCDU", "ABCDE_ABCDE", "ÄBCDE-ABCDE"} {
		if _, ok := h.Hash("u", bad); ok {
			t.Errorf("Hash(%q) accepted it", bad)
		}
	}
	other, _ := NewHasher(bytes.Repeat([]byte{8}, 32))
	c := New()
	a, _ := h.Hash("u", c)
	b, _ := other.Hash("u", c)
	if a == b {
		t.Error("hashes do not depend on the key")
	}
}
