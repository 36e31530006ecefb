// This file checks the links from external accounts (an OpenID Connect
// issuer and subject) to users.

package storetest

import (
	"fmt"

	"github.com/pbxauth/pbxauth"
)

var identityChecks = []check{
	{"Link", func(t tb, s pbxauth.Store) {
		const iss = "https://login.example/dir/v2.0"
		ctx := t.Context()
		for _, id := range []string{"u-1", "u-2", "u-3", "u-4", "u-9"} {
			addUser(t, s, user(id, "", id))
		}
		_, err := s.IdentityUser(ctx, iss, "sub-1")
		wantErr(t, err, pbxauth.ErrNotFound, "IdentityUser before LinkIdentity")
		for _, l := range []struct{ iss, sub, user string }{
			{iss, "sub-1", "u-1"},
			{iss, "sub-2", "u-1"}, // a user may have several accounts
			{iss + "/other", "sub-1", "u-2"},
			// Joining issuer and subject must not make these two one key.
			{"https://a.example/x", "y", "u-3"},
			{"https://a.example/", "xy", "u-4"},
		} {
			must(t, s.LinkIdentity(ctx, l.iss, l.sub, l.user), fmt.Sprintf("LinkIdentity(%q, %q)", l.iss, l.sub))
			what := fmt.Sprintf("IdentityUser(%q, %q)", l.iss, l.sub)
			got, err := s.IdentityUser(ctx, l.iss, l.sub)
			wantErr(t, err, nil, what)
			if got != l.user {
				t.Errorf("%s = %q, want %q", what, got, l.user)
			}
		}
		err = s.LinkIdentity(ctx, iss, "sub-1", "u-9")
		wantErr(t, err, pbxauth.ErrConflict, "LinkIdentity of a linked account")
		got, err := s.IdentityUser(ctx, iss, "sub-1")
		wantErr(t, err, nil, "IdentityUser after a refused relink")
		if got != "u-1" {
			t.Errorf("IdentityUser after a refused relink = %q, want u-1", got)
		}
	}},
}
