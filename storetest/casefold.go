// This file checks that every store matches usernames, domains and emails
// with ASCII case folding only: A–Z fold to a–z and every other byte must be
// equal, so Unicode case mapping (İ to i, K to k, ſ to s, fullwidth letters)
// never lets one address stand for another — whatever the language or the
// database's locale.

package storetest

import (
	"errors"

	"github.com/pbxauth/pbxauth/store"
)

var caseFoldChecks = []check{
	{name: "ASCIIOnly", fn: func(t tb, s store.Store) {
		ctx := t.Context()
		must(t, s.CreateTenant(ctx, store.Tenant{ID: "t-big", Name: "Big", Domain: "BigCorp.Example"}), "CreateTenant")
		alice := user("u-alice", "t-big", "alice")
		kate := user("u-kate", "t-big", "kate")
		sam := user("u-sam", "t-big", "sam")
		jose := user("u-jose", "t-big", "jose")
		jose.Email = "josé@example.com"
		addUser(t, s, alice, kate, sam, jose)

		for _, c := range []struct {
			domain string
			found  bool
		}{
			{"bigcorp.example", true},
			{"BIGCORP.EXAMPLE", true},
			{"b\u0130gcorp.example", false}, // İ
			{"b\u0131gcorp.example", false}, // ı
			{"ｂｉｇｃｏｒｐ.example", false},      // fullwidth
		} {
			_, err := s.TenantByDomain(ctx, c.domain)
			if found := err == nil; found != c.found || err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Errorf("TenantByDomain(%q): %v, want found=%v", c.domain, err, c.found)
			}
		}
		for _, c := range []struct {
			name string
			want string // the user's ID, "" for none
		}{
			{"ALICE", "u-alice"},
			{"aLiCe", "u-alice"},
			{"al\u0130ce", ""}, // İ
			{"\u212Aate", ""},  // Kelvin sign
			{"KATE", "u-kate"},
			{"\u017Fam", ""}, // long s
			{"ｓａｍ", ""},      // fullwidth
			{"SAM", "u-sam"},
		} {
			u, err := s.UserByName(ctx, "t-big", c.name)
			switch {
			case c.want == "" && !errors.Is(err, store.ErrNotFound):
				t.Errorf("UserByName(%q): %v %q, want ErrNotFound", c.name, err, u.ID)
			case c.want != "" && (err != nil || u.ID != c.want):
				t.Errorf("UserByName(%q): %v %q, want %s", c.name, err, u.ID, c.want)
			}
		}
		for _, c := range []struct {
			email string
			want  string
		}{
			{"ALICE@EXAMPLE.COM", "u-alice"},
			{"al\u0130ce@example.com", ""},
			{"\u212Aate@example.com", ""},
			{"\u017Fam@example.com", ""},
			{"ｋａｔｅ@example.com", ""},
			{"JOSé@EXAMPLE.com", "u-jose"},
			{"JOSÉ@example.com", ""}, // É never matches é
		} {
			us, err := s.UsersByEmail(ctx, "t-big", c.email)
			must(t, err, "UsersByEmail "+c.email)
			got := ""
			if len(us) == 1 {
				got = us[0].ID
			}
			if got != c.want || len(us) > 1 {
				t.Errorf("UsersByEmail(%q): %d users (%q), want %q", c.email, len(us), got, c.want)
			}
		}
	}},
}
