package hasher

import (
	"context"
	"errors"
	"strings"
	"testing"
)

var cheap = Params{Memory: 64, Time: 1, Threads: 1}

func TestVerify(t *testing.T) {
	h, err := New(Params{Memory: 128, Time: 1, Threads: 1}, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	stored := Hash("correct horse", cheap)
	for _, c := range []struct {
		name, hash, password string
		ok, upgrade          bool
	}{
		{"right, weaker parameters", stored, "correct horse", true, true},
		{"right, same parameters", Hash("correct horse", Params{Memory: 128, Time: 1, Threads: 1}), "correct horse", true, false},
		{"wrong", stored, "correct horsf", false, false},
		{"no hash: the dummy", "", "correct horse", false, false},
		{"junk hash: the dummy", "$argon2id$v=19$m=0,t=1,p=1$AAAA$AAAA", "x", false, false},
		// NFKC: the ligature "ﬁ" is "fi".
		{"another Unicode form", Hash("ﬁsh", cheap), "fish", true, true},
	} {
		before := h.Count()
		ok, upgrade, err := h.Verify(ctx, Ordinary, "", c.hash, c.password)
		if err != nil || ok != c.ok || upgrade != c.upgrade {
			t.Errorf("%s: ok %v upgrade %v err %v, want %v %v", c.name, ok, upgrade, err, c.ok, c.upgrade)
		}
		if h.Count()-before != 1 {
			t.Errorf("%s: %d hashes, want exactly 1", c.name, h.Count()-before)
		}
	}
}

func TestPHCForm(t *testing.T) {
	s := Hash("pw", cheap)
	if !strings.HasPrefix(s, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("PHC string %q", s)
	}
	p, err := parsePHC(s)
	if err != nil || len(p.salt) != saltLen || len(p.key) != keyLen || p.params != cheap {
		t.Fatalf("parsed %+v, %v", p, err)
	}
	if Hash("pw", cheap) == s {
		t.Fatal("two hashes of one password share a salt")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=64,t=1,p=1$AAAA$AAAA", "$argon2id$v=16$m=64,t=1,p=1$AAAA$AAAA",
		"$argon2id$v=19$m=64,t=0,p=1$AAAA$AAAA", "$argon2id$v=19$m=8388608,t=1,p=1$AAAA$AAAA", "$argon2id$v=19$m=64,t=1,p=1$AAAA$"} {
		if _, err := parsePHC(bad); err == nil {
			t.Errorf("parsePHC(%q) accepted", bad)
		}
	}
}

func TestBusyChecksNothing(t *testing.T) {
	h, err := New(cheap, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, release, err := h.Pool().Acquire(context.Background(), Known, "k")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	before := h.Count()
	if _, _, err := h.Verify(context.Background(), Ordinary, "", Hash("pw", cheap), "pw"); !errors.Is(err, ErrBusy) {
		t.Fatalf("Verify with every slot taken and no queue: %v", err)
	}
	if _, err := h.Hash(context.Background(), Ordinary, "", "pw"); !errors.Is(err, ErrBusy) {
		t.Fatalf("Hash with every slot taken and no queue: %v", err)
	}
	if h.Count() != before {
		t.Fatal("a refused request was hashed")
	}
}
