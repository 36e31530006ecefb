// Package pwpolicy judges a new password against a tenant's password
// policy, PortSIP's object (DESIGN.md, "More of PortSIP v22"): lengths and
// composition, sequences, repeats and account information. Every rule
// judges the NFKC form of the password, counts its code points, and
// compares after Unicode simple case folding (as strings.EqualFold does).
package pwpolicy

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Rule names, PortSIP's member names; a refusal names the rule it broke.
const (
	MinLength       = "min_length"
	MaxLength       = "max_length"
	Letters         = "contains_letters"
	Numbers         = "contains_numbers"
	Special         = "contains_special_letters"
	NoSequential    = "disable_sequential_characters"
	NoRepeating     = "disable_repeating_characters"
	NoAccountInfo   = "disable_account_information"
	runLimit        = 4 // a sequence or repeat this long is refused
	minAccountValue = 4 // shorter account values are not looked for
)

// Policy is what a password is judged by.
type Policy struct {
	MinLength, MaxLength                 int
	Letters, Numbers, Special            bool
	NoSequential, NoRepeating, NoAccount bool
}

// Account is what the account-information rule looks for in a password.
type Account struct {
	Username string
	Email    string // only its local part is looked for
	Domain   string // each dot-separated label is looked for
}

// Violation is a refused password: the rule it broke and why.
type Violation struct {
	Rule   string
	Reason string
}

func (v *Violation) Error() string { return v.Reason + " (" + v.Rule + ")" }

// Check judges password by p for the account a and returns the first rule
// it breaks, or nil.
func Check(p Policy, password string, a Account) *Violation {
	pw := norm.NFKC.String(password)
	n := utf8.RuneCountInString(pw)
	switch {
	case n < p.MinLength:
		return &Violation{MinLength, fmt.Sprintf("must be at least %d characters", p.MinLength)}
	case n > p.MaxLength:
		return &Violation{MaxLength, fmt.Sprintf("must be at most %d characters", p.MaxLength)}
	case p.Letters && !strings.ContainsFunc(pw, unicode.IsLetter):
		return &Violation{Letters, "must contain a letter"}
	case p.Numbers && !strings.ContainsFunc(pw, isNumber):
		return &Violation{Numbers, "must contain a number 0-9"}
	case p.Special && !strings.ContainsFunc(pw, isSpecial):
		return &Violation{Special, "must contain an uppercase letter or a character that is neither a letter nor a digit"}
	}
	folded := fold(pw)
	switch {
	case p.NoSequential && hasSequence(folded):
		return &Violation{NoSequential, fmt.Sprintf("must not contain %d or more sequential letters or digits (like abcd or 4321)", runLimit)}
	case p.NoRepeating && hasRepeat(folded):
		return &Violation{NoRepeating, fmt.Sprintf("must not repeat one character %d or more times in a row", runLimit)}
	case p.NoAccount:
		if what := accountIn(folded, a); what != "" {
			return &Violation{NoAccountInfo, "must not contain the account's " + what}
		}
	}
	return nil
}

// isNumber reports an ASCII digit, PortSIP's "numbers".
func isNumber(r rune) bool { return '0' <= r && r <= '9' }

// isSpecial reports an uppercase letter (Unicode Lu) or a code point that
// is neither a letter nor a digit, PortSIP's "special letters".
func isSpecial(r rune) bool {
	return unicode.Is(unicode.Lu, r) || (!unicode.IsLetter(r) && !unicode.IsDigit(r))
}

// foldRune maps r to one member of its simple case folding orbit, the
// smallest, so that two runes are equal after folding exactly when
// strings.EqualFold says they are.
func foldRune(r rune) rune {
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		least = min(least, f)
	}
	return least
}

// fold folds every rune of s.
func fold(s string) []rune {
	rs := []rune(s)
	for i, r := range rs {
		rs[i] = foldRune(r)
	}
	return rs
}

// step is the ASCII class (1 letters, 2 digits, 0 neither) and position of
// a folded rune; letters fold to A-Z.
func step(r rune) (class int, pos rune) {
	switch {
	case 'A' <= r && r <= 'Z':
		return 1, r - 'A'
	case '0' <= r && r <= '9':
		return 2, r - '0'
	}
	return 0, 0
}

// hasSequence reports runLimit or more ASCII letters or digits in a row,
// each one step from the last in one direction, without wrapping around.
func hasSequence(rs []rune) bool {
	run, dir := 1, rune(0)
	for i := 1; i < len(rs); i++ {
		c0, p0 := step(rs[i-1])
		c1, p1 := step(rs[i])
		d := p1 - p0
		switch {
		case c0 == 0 || c0 != c1 || (d != 1 && d != -1):
			run, dir = 1, 0
		case d == dir:
			run++
		default:
			run, dir = 2, d
		}
		if run >= runLimit {
			return true
		}
	}
	return false
}

// hasRepeat reports runLimit or more equal runes in a row.
func hasRepeat(rs []rune) bool {
	run := 1
	for i := 1; i < len(rs); i++ {
		if rs[i] == rs[i-1] {
			run++
		} else {
			run = 1
		}
		if run >= runLimit {
			return true
		}
	}
	return false
}

// accountIn names the first value of a (of at least minAccountValue code
// points) that the folded password contains, or "".
func accountIn(pw []rune, a Account) string {
	local, _, _ := strings.Cut(a.Email, "@")
	values := []struct{ what, v string }{{"username", a.Username}, {"email address", local}}
	for _, label := range strings.Split(a.Domain, ".") {
		values = append(values, struct{ what, v string }{"domain", label})
	}
	s := string(pw)
	for _, v := range values {
		f := fold(norm.NFKC.String(v.v))
		if len(f) >= minAccountValue && strings.Contains(s, string(f)) {
			return v.what
		}
	}
	return ""
}
