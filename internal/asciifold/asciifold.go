// Package asciifold folds case the way pbxauth matches usernames, domains
// and emails: only the bytes A–Z fold to a–z, every other byte must be
// equal. Unicode case mapping (strings.ToLower, strings.EqualFold) is not
// one-to-one — it maps İ (U+0130) to i, K (U+212A) to k, ſ (U+017F) to s — so
// it would let different addresses match the same account, and SQL lower()
// or citext depend on the database's locale. Every store folds with this
// package, so every store gives the same answers.
package asciifold

// Lower returns s with A–Z mapped to a–z and every other byte as it is.
// It allocates only when s has an upper-case ASCII letter.
func Lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'A' <= c && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// Equal reports whether a and b are equal once A–Z are folded to a–z.
func Equal(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerByte(a[i]) != lowerByte(b[i]) {
			return false
		}
	}
	return true
}

func lowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
