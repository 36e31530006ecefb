// The attacker's tests of GET and POST /ms365 and of the Microsoft sign-in
// rules: who may read and change a tenant's Microsoft settings, what a
// change must be (PortSIP's synchronisation refused, a directory that is a
// GUID), the merge, the rules refusing a Microsoft sign-in by role and
// selection, and a changed directory ending every link, binding and
// Microsoft sign-in of the tenant, against a real OIDC provider.

package pbxauth_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/store"
)

// newDirectory is another Entra directory's ID.
const newDirectory = "9b2d1c7e-3f4a-4b5c-8d6e-0a1b2c3d4e5f"

// ms365 reads the settings of acme (query: "" or "?domain=...") as the
// holder of access.
func (e *env) ms365(access, query string) *apitest.Response {
	return e.c.Do("GET", "/ms365"+query, nil, apitest.Bearer(access)...)
}

// setMS365 posts a change of acme's settings as the holder of access.
func (e *env) setMS365(access, query string, body any) *apitest.Response {
	return e.c.Do("POST", "/ms365"+query, body, apitest.Bearer(access)...)
}

// rule returns a rule object of a GET answer.
func rule(t *testing.T, r *apitest.Response, name string) map[string]any {
	t.Helper()
	m, ok := r.JSON()[name].(map[string]any)
	if !ok {
		t.Fatalf("no %s in %s", name, r.Body)
	}
	return m
}

func TestMs365SettingsWhoMay(t *testing.T) {
	e, alice := newBindingEnv(t)
	bob, _ := e.signIn(t, bobCreds("bob-pw-1234"))
	dealer, _ := e.signIn(t, map[string]any{"username": "dealer", "password": "dealer-pw-1234"})
	admin, _ := e.signIn(t, map[string]any{"username": "admin", "password": adminPW})
	change := map[string]any{"sign_in_as_standard_user": map[string]any{"enabled": false}}
	for _, c := range []struct {
		what, access, query string
		status              int
	}{
		{"a StandardUser", bob, "", 403},
		{"a StandardUser naming its tenant", bob, "?domain=" + acmeDomain, 403},
		{"a Dealer", dealer, "?domain=" + acmeDomain, 403},
		{"an Admin naming another tenant", alice, "?domain=other.example.test", 404},
		{"an Admin naming an unknown tenant", alice, "?domain=nowhere.example.test", 404},
		{"a SystemAdmin without domain", admin, "", 400},
		{"a SystemAdmin naming an unknown tenant", admin, "?domain=nowhere.example.test", 404},
	} {
		if r := e.ms365(c.access, c.query); r.Status != c.status {
			t.Errorf("GET: %s: %d %s, want %d", c.what, r.Status, r.Body, c.status)
		}
		if r := e.setMS365(c.access, c.query, change); r.Status != c.status {
			t.Errorf("POST: %s: %d %s, want %d", c.what, r.Status, r.Body, c.status)
		}
	}
	for _, access := range []string{alice, admin} {
		if r := e.ms365(access, "?domain="+strings.ToUpper(acmeDomain)); r.Status != 200 || rule(t, r, "sign_in_as_standard_user")["enabled"] != true {
			t.Errorf("GET after the refusals: %d %s", r.Status, r.Body)
		}
	}
	if r := e.setMS365(admin, "?domain="+acmeDomain, change); r.Status != 200 {
		t.Errorf("a SystemAdmin: %d %s", r.Status, r.Body)
	}
	if r := e.ms365(alice, ""); rule(t, r, "sign_in_as_standard_user")["enabled"] != false {
		t.Errorf("after a SystemAdmin's change: %s", r.Body)
	}
}

func TestMs365SettingsAnswer(t *testing.T) {
	e, alice := newBindingEnv(t)
	r := e.ms365(alice, "")
	if r.Status != 200 {
		t.Fatalf("GET: %d %s", r.Status, r.Body)
	}
	got := r.JSON()
	for k, want := range map[string]any{"national_cloud": "GLOBAL", "directory_id": entraDirectory, "application_id": e.idp.ClientID,
		"redirect_uri": e.redirectURI, "sbc_redirect_uri": "", "sync_time": ""} {
		if got[k] != want {
			t.Errorf("%s: %v, want %v", k, got[k], want)
		}
	}
	// Rules never set: both enabled, ALL.
	for _, name := range []string{"sign_in_as_administrator", "sign_in_as_standard_user"} {
		if m := rule(t, r, name); m["enabled"] != true || m["sync_type"] != "ALL" || len(m["selected_users"].([]any)) != 0 {
			t.Errorf("%s: %v, want enabled ALL", name, m)
		}
	}
	for _, name := range []string{"users", "personal_contacts", "shared_mailbox", "events"} {
		if m := rule(t, r, name); m["enabled"] != false {
			t.Errorf("%s: %v, want disabled", name, m)
		}
	}
	for _, secret := range []string{e.idp.ClientSecret, "secret", "private_key"} {
		if strings.Contains(string(r.Body), secret) {
			t.Errorf("the answer holds %q: %s", secret, r.Body)
		}
	}
}

func TestMs365SettingsRefused(t *testing.T) {
	e, alice := newBindingEnv(t)
	before := e.ms365(alice, "").Body
	for _, c := range []struct {
		what, word string
		body       any
	}{
		{"common", "directory_id", map[string]any{"directory_id": "common"}},
		{"organizations", "directory_id", map[string]any{"directory_id": "organizations"}},
		{"consumers", "directory_id", map[string]any{"directory_id": "consumers"}},
		{"a directory that is no GUID", "directory_id", map[string]any{"directory_id": "contoso.onmicrosoft.com"}},
		{"an unknown cloud", "national_cloud", map[string]any{"national_cloud": "MARS"}},
		{"a cloud in lower case", "national_cloud", map[string]any{"national_cloud": "china"}},
		{"an empty application", "application_id", map[string]any{"application_id": ""}},
		{"an application with a space", "application_id", map[string]any{"application_id": "my app"}},
		{"an unknown selection", "sync_type", map[string]any{"sign_in_as_standard_user": map[string]any{"enabled": true, "sync_type": "SOME"}}},
		{"a selected user that is neither", "selected_users", map[string]any{"sign_in_as_administrator": map[string]any{"enabled": true, "selected_users": []string{"alice"}}}},
		{"users synchronisation", "not served by this server", map[string]any{"users": map[string]any{"enabled": true}}},
		{"personal contacts", "not served by this server", map[string]any{"personal_contacts": map[string]any{"enabled": true}}},
		{"shared mailboxes", "not served by this server", map[string]any{"shared_mailbox": map[string]any{"enabled": true}}},
		{"events", "not served by this server", map[string]any{"events": map[string]any{"enabled": true}}},
		{"a synchronisation beside a valid change", "not served by this server", map[string]any{"directory_id": newDirectory, "users": map[string]any{"enabled": true}}},
		{"a rule of the wrong type", "", map[string]any{"sign_in_as_administrator": map[string]any{"enabled": "yes"}}},
		{"a directory of the wrong type", "", map[string]any{"directory_id": 7}},
	} {
		r := e.setMS365(alice, "", c.body)
		if r.Status != 400 || r.Code() != "INVALID_ARGUMENT" || !strings.Contains(r.JSON()["errors"].([]any)[0].(map[string]any)["message"].(string), c.word) {
			t.Errorf("%s: %d %s, want 400 naming %q", c.what, r.Status, r.Body, c.word)
		}
	}
	if after := e.ms365(alice, "").Body; string(after) != string(before) {
		t.Errorf("settings changed by refused posts:\n%s\nwas\n%s", after, before)
	}
	// Synchronisation left off, and sync_time, are accepted (and ignored).
	if r := e.setMS365(alice, "", map[string]any{"users": map[string]any{"enabled": false}, "sync_time": "0 3 * * *"}); r.Status != 200 {
		t.Errorf("synchronisation left off: %d %s", r.Status, r.Body)
	}
	if after := e.ms365(alice, "").Body; string(after) != string(before) {
		t.Errorf("settings changed by a post that changes nothing:\n%s", after)
	}
}

// A rule object present replaces the rule whole; omitted members keep.
func TestMs365SettingsMerge(t *testing.T) {
	e, alice := newBindingEnv(t)
	if r := e.setMS365(alice, "", map[string]any{"sign_in_as_administrator": map[string]any{"selected_users": []string{erinUPN}}}); r.Status != 200 {
		t.Fatalf("POST: %d %s", r.Status, r.Body)
	}
	r := e.ms365(alice, "")
	if m := rule(t, r, "sign_in_as_administrator"); m["enabled"] != false || m["sync_type"] != "INCLUDE" || !slices.Equal(m["selected_users"].([]any), []any{erinUPN}) {
		t.Errorf("administrator rule: %v, want disabled, INCLUDE, [%s]", m, erinUPN)
	}
	if m := rule(t, r, "sign_in_as_standard_user"); m["enabled"] != true || m["sync_type"] != "ALL" {
		t.Errorf("standard user rule, not posted: %v", m)
	}
	if r := e.setMS365(alice, "", map[string]any{"sign_in_as_standard_user": map[string]any{"enabled": true, "sync_type": "EXCLUDE", "selected_users": []string{erinOID}}}); r.Status != 200 {
		t.Fatalf("POST: %d %s", r.Status, r.Body)
	}
	r = e.ms365(alice, "")
	if m := rule(t, r, "sign_in_as_administrator"); m["sync_type"] != "INCLUDE" || len(m["selected_users"].([]any)) != 1 {
		t.Errorf("administrator rule after the other's change: %v", m)
	}
	if m := rule(t, r, "sign_in_as_standard_user"); m["sync_type"] != "EXCLUDE" || m["enabled"] != true {
		t.Errorf("standard user rule: %v", m)
	}
	if r.JSON()["directory_id"] != entraDirectory {
		t.Errorf("directory after rule changes: %v", r.JSON()["directory_id"])
	}
	if n := countKind(e.events, pbxauth.EventMicrosoftSettingsChanged); n != 2 {
		t.Errorf("%d microsoft_settings_changed events, want 2", n)
	}
}

// bobAccount is bob's Microsoft account, whose verified email is bob's.
func bobAccount() *entraUser {
	return &entraUser{oid: frankOID, sub: "sub-bob", tid: entraDirectory, email: "bob@acme.example.test", upn: "bob@contoso.example", verified: true, acct: 0}
}

// ruleRefused checks that the last Microsoft refusal was the rule's.
func (e *msEnv) ruleRefused(t *testing.T, userID string) {
	t.Helper()
	e.events.mu.Lock()
	defer e.events.mu.Unlock()
	for i := len(e.events.list) - 1; i >= 0; i-- {
		if ev := e.events.list[i]; ev.Kind == pbxauth.EventMicrosoftSignInBad {
			if ev.Reason != pbxauth.ReasonMicrosoftRule || ev.UserID != userID {
				t.Errorf("refusal %+v, want reason %s for %s", ev, pbxauth.ReasonMicrosoftRule, userID)
			}
			return
		}
	}
	t.Errorf("no %s event", pbxauth.EventMicrosoftSignInBad)
}

func TestMs365RulesAtSignIn(t *testing.T) {
	e, admin := newBindingEnv(t)
	bobID := userIDOf(t, e.env, "bob")
	e.changeUser(t, bobID, func(u *store.User) { u.Email = "bob@acme.example.test" })
	set := func(name string, r map[string]any) {
		t.Helper()
		if resp := e.setMS365(admin, "", map[string]any{name: r}); resp.Status != 200 {
			t.Fatalf("POST %s: %d %s", name, resp.Status, resp.Body)
		}
	}
	// sign_in_as_standard_user disabled: a StandardUser's Microsoft
	// sign-in is refused, and nothing is linked; an Admin's is not.
	set("sign_in_as_standard_user", map[string]any{"enabled": false})
	wantRefused(t, e.signInAs(t, bobAccount()), "access_denied")
	e.ruleRefused(t, bobID)
	e.wantLink(t, "oid:"+frankOID, "")
	e.exchange(t, e.signInAs(t, alice()))

	for _, c := range []struct {
		what string
		rule map[string]any
		ok   bool
	}{
		{"INCLUDE listing bob's object ID", map[string]any{"enabled": true, "sync_type": "INCLUDE", "selected_users": []string{strings.ToUpper(frankOID)}}, true},
		{"INCLUDE listing bob's UPN", map[string]any{"enabled": true, "sync_type": "INCLUDE", "selected_users": []string{"Bob@Contoso.Example"}}, true},
		{"INCLUDE listing someone else", map[string]any{"enabled": true, "sync_type": "INCLUDE", "selected_users": []string{erinUPN}}, false},
		{"EXCLUDE listing bob", map[string]any{"enabled": true, "sync_type": "EXCLUDE", "selected_users": []string{frankOID}}, false},
		{"EXCLUDE listing someone else", map[string]any{"enabled": true, "sync_type": "EXCLUDE", "selected_users": []string{erinOID}}, true},
		{"ALL", map[string]any{"enabled": true}, true},
		{"disabled again, bob linked meanwhile", map[string]any{"enabled": false, "sync_type": "ALL"}, false},
	} {
		set("sign_in_as_standard_user", c.rule)
		land := e.signInAs(t, bobAccount())
		if !c.ok {
			wantRefused(t, land, "access_denied")
			e.ruleRefused(t, bobID)
			continue
		}
		if access := e.exchange(t, land); e.c.Do("GET", "/auth/user", nil, apitest.Bearer(access)...).String("username") != "bob" {
			t.Errorf("%s: not signed in as bob", c.what)
		}
	}
	// A UPN selects a guest of the directory no more than a binding does.
	set("sign_in_as_standard_user", map[string]any{"enabled": true, "sync_type": "INCLUDE", "selected_users": []string{"bob@contoso.example"}})
	guest := bobAccount()
	guest.acct = 1
	wantRefused(t, e.signInAs(t, guest), "access_denied")

	// sign_in_as_administrator rules alice, linked already.
	set("sign_in_as_administrator", map[string]any{"enabled": false})
	wantRefused(t, e.signInAs(t, alice()), "access_denied")
	e.ruleRefused(t, aliceID)
	set("sign_in_as_administrator", map[string]any{"enabled": true, "sync_type": "ALL"})
	e.exchange(t, e.signInAs(t, alice()))
}

// A new directory ends the tenant's links and bindings and the sign-ins
// made through them; other sign-ins stay.
func TestMs365DirectoryChangeEndsLinks(t *testing.T) {
	for _, change := range []map[string]any{
		{"directory_id": newDirectory},
		{"application_id": "11111111-2222-3333-4444-555555555555"},
		{"national_cloud": "CHINA"},
	} {
		t.Run(strings.Join(mapKeys(change), ","), func(t *testing.T) {
			e, admin := newBindingEnv(t)
			aliceMS := e.exchange(t, e.signInAs(t, alice()))
			if r := e.bind(admin, erinID, erinOID); r.Status != 200 {
				t.Fatalf("bind: %d %s", r.Status, r.Body)
			}
			erinMS := e.exchange(t, e.signInAs(t, erinAccount()))
			if r := e.setMS365(admin, "", change); r.Status != 200 {
				t.Fatalf("POST: %d %s", r.Status, r.Body)
			}
			e.wantLink(t, "oid:oid-alice", "")
			e.wantLink(t, "oid:"+erinOID, "")
			if k := e.bindingOf(t, erinID); k != "" {
				t.Errorf("erin's binding after the change: %q", k)
			}
			for who, access := range map[string]string{"alice's": aliceMS, "erin's": erinMS} {
				if r := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(access)...); r.Status != 401 {
					t.Errorf("%s Microsoft sign-in after the change: %d", who, r.Status)
				}
			}
			if r := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(admin)...); r.Status != 200 {
				t.Errorf("alice's password sign-in after the change: %d", r.Status)
			}
			r := e.ms365(admin, "")
			for k, v := range change {
				if r.JSON()[k] != v {
					t.Errorf("%s: %v, want %v", k, r.JSON()[k], v)
				}
			}
			var changed *pbxauth.Event
			for _, ev := range e.events.list {
				if ev.Kind == pbxauth.EventMicrosoftSettingsChanged {
					changed = &ev
				}
			}
			if changed == nil || changed.Actor != aliceID || changed.TenantID != acmeID || !strings.Contains(changed.Change, "2 links and 1 bindings ended") {
				t.Errorf("settings event %+v", changed)
			}
		})
	}
}

func mapKeys(m map[string]any) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

// Changing the directory through UpdateTenant ends links as POST /ms365
// does; a change of the secret alone does not.
func TestMs365DirectoryChangeGoAPI(t *testing.T) {
	e, _ := newBindingEnv(t)
	ctx := t.Context()
	e.exchange(t, e.signInAs(t, alice()))
	tn, err := e.auth.Tenant(ctx, acmeDomain)
	if err != nil {
		t.Fatal(err)
	}
	s := pbxauth.SettingsOf(tn)
	s.MS365.ClientSecret = e.idp.ClientSecret
	s.MS365.Issuer = e.idp.Issuer()
	if _, err := e.auth.UpdateTenant(ctx, acmeDomain, s); err != nil {
		t.Fatal(err)
	}
	e.wantLink(t, "oid:oid-alice", aliceID)
	s.MS365.DirectoryID = newDirectory
	if _, err := e.auth.UpdateTenant(ctx, acmeDomain, s); err != nil {
		t.Fatal(err)
	}
	e.wantLink(t, "oid:oid-alice", "")

	if _, err := e.auth.SetMicrosoftSettings(ctx, acmeDomain, pbxauth.MicrosoftSettingsChange{DirectoryID: ptr("common")}); !errors.Is(err, pbxauth.ErrInvalid) {
		t.Errorf("SetMicrosoftSettings of common: %v, want ErrInvalid", err)
	}
	if _, err := e.auth.MicrosoftSettings(ctx, "nowhere.example.test"); !errors.Is(err, pbxauth.ErrNotFound) {
		t.Errorf("MicrosoftSettings of an unknown domain: %v, want ErrNotFound", err)
	}
	got, err := e.auth.SetMicrosoftSettings(ctx, acmeDomain, pbxauth.MicrosoftSettingsChange{
		SignInAsStandardUser: &pbxauth.MicrosoftSignInRule{Enabled: true, SelectedUsers: []string{erinOID}, SyncType: "INCLUDE"}})
	if err != nil || got.DirectoryID != newDirectory || got.SignInAsStandardUser.SyncType != "INCLUDE" || !got.SignInAsAdministrator.Enabled {
		t.Errorf("SetMicrosoftSettings: %+v, %v", got, err)
	}
}

func ptr[T any](v T) *T { return &v }

// The user learns of a binding, naming the account; every Admin of the
// tenant of a changed directory.
func TestMs365Notices(t *testing.T) {
	e := newMailEnv(t)
	if err := e.store.CreateUser(t.Context(), store.User{ID: erinID, TenantID: acmeID, Username: "erin", Email: "erin@acme.example.test", Role: pbxauth.RoleStandardUser}); err != nil {
		t.Fatal(err)
	}
	alice, _ := e.signIn(t, aliceCreds())
	if r := e.bind(alice, erinID, erinUPN); r.Status != 200 {
		t.Fatalf("bind: %d %s", r.Status, r.Body)
	}
	if m := e.smtp.Receive(t); !strings.Contains(m.Text, erinUPN) || m.To[0] != "erin@acme.example.test" {
		t.Errorf("binding notice: %+v", m)
	}
	if r := e.setMS365(alice, "", map[string]any{"directory_id": newDirectory, "application_id": "app"}); r.Status != 200 {
		t.Fatalf("POST /ms365: %d %s", r.Status, r.Body)
	}
	if m := e.smtp.Receive(t); !strings.Contains(m.Text, "Microsoft directory settings") || m.To[0] != "alice@acme.example.test" {
		t.Errorf("directory notice: %+v", m)
	}
}

// Concurrent changes of different rules all survive: each merge is stored
// over the version it read, and merges again when it lost.
func TestMs365SettingsConcurrentMerges(t *testing.T) {
	e, alice := newBindingEnv(t)
	const n = 8
	statuses := parallel(n, func(i int) int {
		name := "sign_in_as_administrator"
		if i%2 == 1 {
			name = "sign_in_as_standard_user"
		}
		return e.setMS365(alice, "", map[string]any{name: map[string]any{"enabled": true, "sync_type": "EXCLUDE",
			"selected_users": []string{fmt.Sprintf("racer%d@contoso.example", i)}}}).Status
	})
	for i, s := range statuses {
		if s != 200 {
			t.Errorf("racer %d: %d", i, s)
		}
	}
	r := e.ms365(alice, "")
	for _, name := range []string{"sign_in_as_administrator", "sign_in_as_standard_user"} {
		if m := rule(t, r, name); m["sync_type"] != "EXCLUDE" {
			t.Errorf("%s lost its change: %v", name, m)
		}
	}
}
