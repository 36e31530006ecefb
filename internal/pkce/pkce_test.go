package pkce

import (
	"strings"
	"testing"
)

// The example of RFC 7636 Appendix B.
const (
	rfcVerifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	rfcChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
)

func TestMatches(t *testing.T) {
	if !ValidChallenge(rfcChallenge) || !ValidVerifier(rfcVerifier) || !Matches(rfcChallenge, rfcVerifier) {
		t.Fatal("the RFC 7636 example does not check out")
	}
	if Matches(rfcChallenge, rfcVerifier+"x") || Matches(strings.ToLower(rfcChallenge), rfcVerifier) {
		t.Error("a wrong verifier matches")
	}
}

func TestValid(t *testing.T) {
	for _, c := range []string{"", rfcChallenge[:42], rfcChallenge + "A", strings.Replace(rfcChallenge, "-", "+", 1),
		rfcChallenge[:42] + "=", rfcChallenge[:42] + "N"} { // N leaves non-zero padding bits
		if ValidChallenge(c) {
			t.Errorf("ValidChallenge(%q) = true", c)
		}
	}
	for _, v := range []string{"", rfcVerifier[:42], strings.Repeat("a", 129), rfcVerifier[:42] + "/", rfcVerifier[:42] + " "} {
		if ValidVerifier(v) {
			t.Errorf("ValidVerifier(%q) = true", v)
		}
	}
	if !ValidVerifier(strings.Repeat("~", 128)) {
		t.Error("a 128-character verifier is refused")
	}
}
