package grace

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"testing"
)

// TestTokenIsTheDocumentedHMAC recomputes the derivation from its
// definition, so it cannot drift.
func TestTokenIsTheDocumentedHMAC(t *testing.T) {
	r := [32]byte{1, 2, 3}
	m := hmac.New(sha256.New, []byte("presented"))
	m.Write(append(append(append([]byte("pbxauth/grace/v1"), 2), "family"...), r[:]...))
	want := base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	if got := Token("presented", 2, "family", r); got != want || len(got) != 43 {
		t.Fatalf("Token = %q, want %q", got, want)
	}
}

// TestTokenDependsOnEveryInput: each input changes the token; the same
// inputs give the same token.
func TestTokenDependsOnEveryInput(t *testing.T) {
	r, other := NewSeed(), NewSeed()
	if r == other {
		t.Fatal("two seeds are equal")
	}
	base := Token("p", 1, "f", r)
	if Token("p", 1, "f", r) != base {
		t.Fatal("not deterministic")
	}
	for name, tok := range map[string]string{
		"presented": Token("q", 1, "f", r),
		"kind":      Token("p", 2, "f", r),
		"family":    Token("p", 1, "g", r),
		"seed":      Token("p", 1, "f", other),
	} {
		if tok == base {
			t.Errorf("changing the %s keeps the token", name)
		}
	}
}
