package pwpolicy

import "testing"

func TestCheck(t *testing.T) {
	all := Policy{MinLength: 8, MaxLength: 256, Letters: true, Numbers: true, Special: true,
		NoSequential: true, NoRepeating: true, NoAccount: true}
	only := func(set func(*Policy)) Policy {
		p := Policy{MinLength: 8, MaxLength: 256}
		set(&p)
		return p
	}
	acct := Account{Username: "alice", Email: "a.smith@mail.example", Domain: "pbx.acme.example"}
	for _, c := range []struct {
		name     string
		p        Policy
		password string
		acct     Account
		want     string // the rule broken, "" for none
	}{
		{"every rule passed", all, "Tr0ub4dor&3", acct, ""},
		{"too short", all, "Tr0ub&3", acct, MinLength},
		{"length counts code points, not bytes", only(func(p *Policy) {}), "ééééééé", acct, MinLength},
		{"length counts the NFKC form", only(func(p *Policy) { p.MinLength = 3 }), "ﬃ", acct, ""}, // ligature → "ffi"
		{"too long", only(func(p *Policy) { p.MaxLength = 10 }), "Tr0ub4dor&33", acct, MaxLength},
		{"no letter", only(func(p *Policy) { p.Letters = true }), "12345678!", acct, Letters},
		{"a non-ASCII letter", only(func(p *Policy) { p.Letters = true }), "1234567ж", acct, ""},
		{"no number", only(func(p *Policy) { p.Numbers = true }), "password!", acct, Numbers},
		{"a non-ASCII digit is no number", only(func(p *Policy) { p.Numbers = true }), "passwor٣", acct, Numbers},
		{"fullwidth digit is a number after NFKC", only(func(p *Policy) { p.Numbers = true }), "passwor３", acct, ""},
		{"no special", only(func(p *Policy) { p.Special = true }), "password1", acct, Special},
		{"an ASCII uppercase letter is special", only(func(p *Policy) { p.Special = true }), "passworD1", acct, ""},
		{"a non-ASCII Lu is special", only(func(p *Policy) { p.Special = true }), "passworЖ1", acct, ""},
		{"a symbol is special", only(func(p *Policy) { p.Special = true }), "password!", acct, ""},
		{"a space is special", only(func(p *Policy) { p.Special = true }), "pass word", acct, ""},
		{"sequential up", only(func(p *Policy) { p.NoSequential = true }), "xxabcdxx", acct, NoSequential},
		{"sequential down, mixed case", only(func(p *Policy) { p.NoSequential = true }), "xxDcBaxx", acct, NoSequential},
		{"sequential digits", only(func(p *Policy) { p.NoSequential = true }), "pw-6789!", acct, NoSequential},
		{"sequential digits down", only(func(p *Policy) { p.NoSequential = true }), "pw-3210!", acct, NoSequential},
		{"three in a row pass", only(func(p *Policy) { p.NoSequential = true }), "abc-xyz-123", acct, ""},
		{"no wrap-around", only(func(p *Policy) { p.NoSequential = true }), "qqyzabqq", acct, ""},
		{"no wrap-around in digits", only(func(p *Policy) { p.NoSequential = true }), "qq8901qq", acct, ""},
		{"changing direction is no sequence", only(func(p *Policy) { p.NoSequential = true }), "qqababqq", acct, ""},
		{"letters and digits do not chain", only(func(p *Policy) { p.NoSequential = true }), "qq89abqq", acct, ""},
		{"fullwidth letters fold to a sequence", only(func(p *Policy) { p.NoSequential = true }), "qqａｂｃｄqq", acct, NoSequential},
		{"repeating", only(func(p *Policy) { p.NoRepeating = true }), "pass1111", acct, NoRepeating},
		{"repeating after case folding", only(func(p *Policy) { p.NoRepeating = true }), "xxaAaAxx", acct, NoRepeating},
		{"repeating non-ASCII after folding", only(func(p *Policy) { p.NoRepeating = true }), "xxЖжЖжxx", acct, NoRepeating},
		{"three repeats pass", only(func(p *Policy) { p.NoRepeating = true }), "paaass111", acct, ""},
		{"username", only(func(p *Policy) { p.NoAccount = true }), "xxALICExx", acct, NoAccountInfo},
		{"email local part", only(func(p *Policy) { p.NoAccount = true }), "xa.SMITHx", acct, NoAccountInfo},
		{"domain label", only(func(p *Policy) { p.NoAccount = true }), "xxAcmexx", acct, NoAccountInfo},
		{"another domain label", only(func(p *Policy) { p.NoAccount = true }), "xexamplex", acct, NoAccountInfo},
		{"short labels are not looked for", only(func(p *Policy) { p.NoAccount = true }), "pbx-mail-x", acct, ""},
		{"short username is not looked for", only(func(p *Policy) { p.NoAccount = true }), "bobsecret", Account{Username: "bob"}, ""},
		{"no email", only(func(p *Policy) { p.NoAccount = true }), "whatever1", Account{Username: "alice"}, ""},
		{"rules off pass anything long enough", only(func(p *Policy) {}), "aaaaabcdalice", acct, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := Check(c.p, c.password, c.acct)
			switch {
			case c.want == "" && v != nil:
				t.Fatalf("Check(%q) = %v; want nil", c.password, v)
			case c.want != "" && (v == nil || v.Rule != c.want):
				t.Fatalf("Check(%q) = %v; want rule %s", c.password, v, c.want)
			case v != nil && v.Error() == "":
				t.Fatal("a violation without a reason")
			}
		})
	}
}

func TestFoldMatchesEqualFold(t *testing.T) {
	for _, pair := range [][2]rune{{'k', 'K'}, {'k', '\u212a'}, {'s', '\u017f'}, {'ж', 'Ж'}, {'ß', 'ẞ'}} {
		if foldRune(pair[0]) != foldRune(pair[1]) {
			t.Errorf("fold(%q) != fold(%q)", pair[0], pair[1])
		}
	}
	if foldRune('a') == foldRune('b') {
		t.Error("a and b fold alike")
	}
}
