// This file checks the optional store.DirectoryLister: tenants and a
// tenant's users come a page at a time, in the byte order of their folded
// keys (not the database's locale), after a cursor given in any case, and
// never another tenant's users.

package storetest

import (
	"strings"

	"github.com/pbxauth/pbxauth/store"
)

// directoryLister returns s as a DirectoryLister, or skips the check.
func directoryLister(t tb, s store.Store) store.DirectoryLister {
	t.Helper()
	return capability[store.DirectoryLister](t, s)
}

// listOrder are names in the byte order of their folded form, which
// neither a glibc locale's collation (which passes over punctuation: "aa"
// before "a_b", "b.x" before "B-y") nor the unfolded bytes ("Q0" and "Zed"
// before "a_b") keep.
var listOrder = []string{"a_b", "aa", "B-y", "b.x", "Q0", "Zed"}

// wantPages walks the pages of list, limit at a time, each starting after
// the last key of the one before in upper case, and checks that they give
// want in order, each once.
func wantPages[T any](t tb, what string, list func(after string, limit int) ([]T, error), key func(T) string, want []string) {
	t.Helper()
	for _, limit := range []int{1, 2, len(want), len(want) + 1} {
		var got []string
		after := ""
		for range len(want) + 1 {
			page, err := list(after, limit)
			wantErr(t, err, nil, what)
			if len(page) > limit {
				t.Fatalf("%s: a page of %d with limit %d", what, len(page), limit)
			}
			if len(page) == 0 {
				break
			}
			for _, r := range page {
				got = append(got, key(r))
			}
			after = strings.ToUpper(key(page[len(page)-1]))
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s, %d at a time: got %q, want %q", what, limit, got, want)
		}
	}
}

var listerChecks = []check{
	{name: "TenantPages", pair: func(t tb, a, b store.Store) {
		l := directoryLister(t, b)
		got, err := l.Tenants(t.Context(), "", 10)
		wantErr(t, err, nil, "Tenants of an empty store")
		if len(got) != 0 {
			t.Errorf("Tenants of an empty store: %+v", got)
		}
		var want []string
		for i := len(listOrder) - 1; i >= 0; i-- {
			tn := store.Tenant{ID: "t-" + listOrder[i], Name: listOrder[i], Domain: listOrder[i] + ".example"}
			if i == 0 {
				tn = acme()
				tn.Domain = listOrder[0] + ".example"
			}
			must(t, a.CreateTenant(t.Context(), tn), "CreateTenant "+tn.Domain)
		}
		for _, n := range listOrder {
			want = append(want, n+".example")
		}
		wantPages(t, "Tenants", func(after string, limit int) ([]store.Tenant, error) {
			return l.Tenants(t.Context(), after, limit)
		}, func(tn store.Tenant) string { return tn.Domain }, want)
		got, err = l.Tenants(t.Context(), "", 1)
		wantErr(t, err, nil, "Tenants")
		full := acme()
		full.Domain = listOrder[0] + ".example"
		equal(t, "the first tenant listed", got, []store.Tenant{full})
	}},
	{name: "UserPages", pair: func(t tb, a, b store.Store) {
		l := directoryLister(t, b)
		var want []string
		for i := len(listOrder) - 1; i >= 0; i-- {
			addUser(t, a, user("u-acme-"+listOrder[i], "t-acme", listOrder[i]),
				user("u-other-"+listOrder[i], "t-other", listOrder[i]+"o"),
				user("u-sys-"+listOrder[i], "", listOrder[i]+"s"))
		}
		for _, tenant := range []struct{ id, suffix string }{{"t-acme", ""}, {"t-other", "o"}, {"", "s"}} {
			want = want[:0]
			for _, n := range listOrder {
				want = append(want, n+tenant.suffix)
			}
			wantPages(t, "Users of "+tenant.id, func(after string, limit int) ([]store.User, error) {
				return l.Users(t.Context(), tenant.id, after, limit)
			}, func(u store.User) string { return u.Username }, want)
		}
		got, err := l.Users(t.Context(), "t-acme", "", 1)
		wantErr(t, err, nil, "Users")
		first := user("u-acme-"+listOrder[0], "t-acme", listOrder[0])
		if len(got) == 1 {
			first.Epoch = got[0].Epoch // how the epoch moves is the Epoch section's concern
		}
		equal(t, "the first user listed", got, []store.User{first})
		got, err = l.Users(t.Context(), "t-missing", "", 10)
		wantErr(t, err, nil, "Users of a tenant that does not exist")
		if len(got) != 0 {
			t.Errorf("Users of a tenant that does not exist: %+v", got)
		}
	}},
	{name: "UsersFollowTheirTenant", fn: func(t tb, s store.Store) {
		l := directoryLister(t, s)
		addUser(t, s, user("u-1", "t-acme", "alice"))
		ensureTenant(t, s, "t-other")
		moved := user("u-1", "t-other", "Alice2")
		must(t, s.UpdateUser(t.Context(), moved), "UpdateUser to another tenant and name")
		got, err := l.Users(t.Context(), "t-acme", "", 10)
		wantErr(t, err, nil, "Users of the tenant left")
		if len(got) != 0 {
			t.Errorf("Users of the tenant left: %+v", got)
		}
		got, err = l.Users(t.Context(), "t-other", "alice", 10)
		wantErr(t, err, nil, "Users of the new tenant")
		if len(got) != 1 || got[0].Username != "Alice2" {
			t.Errorf("Users of the new tenant after alice: %+v, want Alice2", got)
		}
	}},
}
