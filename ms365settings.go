// This file serves a tenant's Microsoft settings ("More of PortSIP v22"):
// GET and POST /ms365 (PortSIP's getTenantMicrosoft365ProvisioningDetails
// and updateTenantMicrosoft365Provisioning) and their Go counterparts. It
// serves the directory, the application, the national cloud and the two
// sign-in rules (applied at the callback by msbound.go); PortSIP's
// directory synchronisation is not pbxauth's, and is answered disabled.

package pbxauth

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/pbxauth/pbxauth/store"
)

// National clouds of PortSIP's settings.
const (
	cloudGlobal = "GLOBAL"
	cloudChina  = "CHINA"
)

// Limits of the settings' fields.
const (
	maxApplicationID = 256  // bytes
	maxSelectedUsers = 1000 // per rule
)

// MicrosoftSignInRule is one of a tenant's Microsoft sign-in rules, as
// PortSIP's sign_in_as_administrator and sign_in_as_standard_user carry
// it. A rule admits a user's Microsoft sign-in only when Enabled, and
// then SyncType selects the accounts: "ALL" every account, "INCLUDE" only
// those SelectedUsers lists, "EXCLUDE" all but those (the selections
// follow their names; PortSIP's descriptions swap INCLUDE and EXCLUDE).
// An entry is an object ID or a UPN, matched as a binding is: only in an
// ID token of the tenant's directory, a UPN only for a member.
type MicrosoftSignInRule struct {
	Enabled       bool     `json:"enabled"`
	SelectedUsers []string `json:"selected_users"`
	// SyncType "" in a change means the rule's default: "INCLUDE" for
	// sign_in_as_administrator, "ALL" for sign_in_as_standard_user.
	SyncType string `json:"sync_type"`
}

// MicrosoftSettings are a tenant's Microsoft settings as pbxauth serves
// them (GET /ms365 without PortSIP's directory synchronisation).
type MicrosoftSettings struct {
	NationalCloud string `json:"national_cloud"` // "GLOBAL" or "CHINA"
	DirectoryID   string `json:"directory_id"`
	ApplicationID string `json:"application_id"`
	// RedirectURI is the redirect URI to register in Entra ID (read-only).
	RedirectURI string `json:"redirect_uri"`
	// SignInAsAdministrator rules users with the role Admin,
	// SignInAsStandardUser every other role. A tenant whose rules were
	// never set has both enabled, selecting ALL.
	SignInAsAdministrator MicrosoftSignInRule `json:"sign_in_as_administrator"`
	SignInAsStandardUser  MicrosoftSignInRule `json:"sign_in_as_standard_user"`
}

// MicrosoftSettingsChange is a change of a tenant's Microsoft settings,
// as POST /ms365 takes it: a nil member keeps its value, a rule present
// replaces the rule whole. Changing the directory, the application or the
// national cloud ends the tenant's links and bindings.
type MicrosoftSettingsChange struct {
	NationalCloud         *string              `json:"national_cloud"`
	DirectoryID           *string              `json:"directory_id"`
	ApplicationID         *string              `json:"application_id"`
	SignInAsAdministrator *MicrosoftSignInRule `json:"sign_in_as_administrator"`
	SignInAsStandardUser  *MicrosoftSignInRule `json:"sign_in_as_standard_user"`
}

// msSyncRequest is a member of PortSIP's directory synchronisation in a
// POST: only whether it asks to be enabled matters.
type msSyncRequest struct {
	Enabled bool `json:"enabled"`
}

// ms365Request is the body of POST /ms365.
type ms365Request struct {
	MicrosoftSettingsChange
	SyncTime         *string        `json:"sync_time"` // accepted and ignored
	Users            *msSyncRequest `json:"users"`
	PersonalContacts *msSyncRequest `json:"personal_contacts"`
	SharedMailbox    *msSyncRequest `json:"shared_mailbox"`
	Events           *msSyncRequest `json:"events"`
}

// msSync is a member of PortSIP's directory synchronisation as GET
// answers it: disabled.
type msSync struct {
	Enabled       bool     `json:"enabled"`
	SelectedUsers []string `json:"selected_users"`
	SyncType      string   `json:"sync_type"`
}

// msSyncUsers is PortSIP's users synchronisation as GET answers it.
type msSyncUsers struct {
	msSync
	SyncGuestUsers bool `json:"sync_guest_users"`
	SyncPhoto      bool `json:"sync_photo"`
}

// ms365Answer is the answer of GET /ms365.
type ms365Answer struct {
	MicrosoftSettings
	SBCRedirectURI   string      `json:"sbc_redirect_uri"`
	SyncTime         string      `json:"sync_time"`
	Users            msSyncUsers `json:"users"`
	PersonalContacts msSync      `json:"personal_contacts"`
	SharedMailbox    msSync      `json:"shared_mailbox"`
	Events           msSync      `json:"events"`
}

// wireMicrosoftRule is r as the API answers it.
func wireMicrosoftRule(r store.MicrosoftRule) MicrosoftSignInRule {
	return MicrosoftSignInRule{Enabled: r.Enabled, SelectedUsers: append([]string{}, r.SelectedUsers...), SyncType: r.SyncType}
}

// microsoftSettings returns tenant t's settings.
func (a *Auth) microsoftSettings(ctx context.Context, t store.Tenant) (MicrosoftSettings, error) {
	r, err := a.rulesOf(ctx, t.ID)
	if err != nil {
		return MicrosoftSettings{}, err
	}
	s := MicrosoftSettings{NationalCloud: cloudGlobal, RedirectURI: a.microsoftRedirectURL(),
		SignInAsAdministrator: wireMicrosoftRule(r.Administrator), SignInAsStandardUser: wireMicrosoftRule(r.StandardUser)}
	if m := t.MS365; m != nil {
		s.DirectoryID, s.ApplicationID = m.DirectoryID, m.ApplicationID
		if m.NationalCloud != "" {
			s.NationalCloud = strings.ToUpper(m.NationalCloud)
		}
	}
	return s, nil
}

// checkRule validates a rule of a change and fills in its default
// selection.
func checkRule(field string, r *MicrosoftSignInRule, def string) error {
	switch r.SyncType {
	case "":
		r.SyncType = def
	case store.SelectAll, store.SelectInclude, store.SelectExclude:
	default:
		return invalidf("%s.sync_type must be ALL, INCLUDE or EXCLUDE", field)
	}
	if len(r.SelectedUsers) > maxSelectedUsers {
		return invalidf("%s.selected_users holds at most %d entries", field, maxSelectedUsers)
	}
	for _, u := range r.SelectedUsers {
		if bindingKey(u) == "" {
			return invalidf("%s.selected_users: %q is neither an object ID (a GUID) nor a user principal name (name@domain)", field, u)
		}
	}
	return nil
}

// check validates c as POST /ms365 does, filling in the rules' defaults.
func (c *MicrosoftSettingsChange) check() error {
	if v := c.NationalCloud; v != nil && *v != cloudGlobal && *v != cloudChina {
		return invalidf("national_cloud must be GLOBAL or CHINA")
	}
	if v := c.DirectoryID; v != nil && !isGUID(*v) {
		return invalidf("directory_id must be the directory's ID, a GUID (common, organizations and consumers name no directory)")
	}
	if v := c.ApplicationID; v != nil && (*v == "" || len(*v) > maxApplicationID || strings.ContainsFunc(*v, func(r rune) bool { return r <= ' ' || r >= 0x7f })) {
		return invalidf("application_id must be 1-%d printable ASCII characters without spaces", maxApplicationID)
	}
	if r := c.SignInAsAdministrator; r != nil {
		if err := checkRule("sign_in_as_administrator", r, store.SelectInclude); err != nil {
			return err
		}
	}
	if r := c.SignInAsStandardUser; r != nil {
		if err := checkRule("sign_in_as_standard_user", r, store.SelectAll); err != nil {
			return err
		}
	}
	return nil
}

// notServed refuses a POST that enables PortSIP's directory
// synchronisation, which pbxauth does not do.
func (req *ms365Request) notServed() *apiError {
	for _, m := range []struct {
		name string
		sync *msSyncRequest
	}{{"users", req.Users}, {"personal_contacts", req.PersonalContacts}, {"shared_mailbox", req.SharedMailbox}, {"events", req.Events}} {
		if m.sync != nil && m.sync.Enabled {
			return invalidArgument(m.name + ".enabled: Microsoft 365 synchronisation is not served by this server")
		}
	}
	return nil
}

// updateMicrosoft applies c to tenant t: the rules first (merged over the
// version read), then the directory, application and cloud, whose change
// ends the tenant's links and bindings. It reports the change and returns
// the settings.
func (a *Auth) updateMicrosoft(ctx context.Context, t store.Tenant, c MicrosoftSettingsChange, actor string, o origin) (MicrosoftSettings, error) {
	if err := c.check(); err != nil {
		return MicrosoftSettings{}, err
	}
	before, err := a.microsoftSettings(ctx, t)
	if err != nil {
		return MicrosoftSettings{}, err
	}
	var changes []string
	if c.SignInAsAdministrator != nil || c.SignInAsStandardUser != nil {
		if changes, err = a.putRules(ctx, t.ID, c); err != nil {
			return MicrosoftSettings{}, err
		}
	}
	m := store.MS365{NationalCloud: cloudGlobal}
	if t.MS365 != nil {
		m = *t.MS365
	}
	directory := false
	for _, f := range []struct {
		name string
		to   *string
		at   *string
		was  string
	}{
		{"national_cloud", c.NationalCloud, &m.NationalCloud, before.NationalCloud},
		{"directory_id", c.DirectoryID, &m.DirectoryID, before.DirectoryID},
		{"application_id", c.ApplicationID, &m.ApplicationID, before.ApplicationID},
	} {
		if f.to != nil && *f.to != f.was {
			*f.at, directory = *f.to, true
			changes = append(changes, fmt.Sprintf("%s %q -> %q", f.name, f.was, *f.to))
		}
	}
	if directory {
		ended, err := a.changeDirectory(ctx, t, m, o)
		if err != nil {
			return MicrosoftSettings{}, err
		}
		changes = append(changes, ended)
	}
	if len(changes) > 0 {
		a.emit(ctx, Event{Kind: EventMicrosoftSettingsChanged, TenantID: t.ID, ClientIP: o.ip, Actor: actor, Change: strings.Join(changes, "; ")})
	}
	after, err := a.store().Tenant(ctx, t.ID)
	if err != nil {
		return MicrosoftSettings{}, err
	}
	return a.microsoftSettings(ctx, after)
}

// putRules stores the rules c sets over the tenant's, and says what
// changed.
func (a *Auth) putRules(ctx context.Context, tenantID string, c MicrosoftSettingsChange) ([]string, error) {
	bs := a.bindingStore()
	if bs == nil {
		return nil, errNoBindingsStore
	}
	var changes []string
	_, err := mergeVersioned("the Microsoft sign-in rules",
		func() (store.MicrosoftRules, error) { return a.rulesOf(ctx, tenantID) },
		func(cur store.MicrosoftRules) (next store.MicrosoftRules, err error) {
			next, changes = c.appliedTo(cur)
			return next, nil
		},
		func(next store.MicrosoftRules) error { return bs.PutMicrosoftRules(ctx, next) })
	if err != nil {
		return nil, err
	}
	return changes, nil
}

// appliedTo returns the rules c sets over cur, and says what changed.
func (c MicrosoftSettingsChange) appliedTo(cur store.MicrosoftRules) (store.MicrosoftRules, []string) {
	next := cur
	var changes []string
	for _, r := range []struct {
		name string
		set  *MicrosoftSignInRule
		at   *store.MicrosoftRule
	}{{"sign_in_as_administrator", c.SignInAsAdministrator, &next.Administrator}, {"sign_in_as_standard_user", c.SignInAsStandardUser, &next.StandardUser}} {
		if r.set == nil {
			continue
		}
		was := *r.at
		*r.at = store.MicrosoftRule{Enabled: r.set.Enabled, SyncType: r.set.SyncType, SelectedUsers: slices.Clone(r.set.SelectedUsers)}
		changes = append(changes, fmt.Sprintf("%s %s -> %s", r.name, ruleText(was), ruleText(*r.at)))
	}
	return next, changes
}

// ruleText is a rule in words for a log.
func ruleText(r store.MicrosoftRule) string {
	if !r.Enabled {
		return "disabled"
	}
	if r.SyncType == store.SelectAll {
		return "ALL"
	}
	return r.SyncType + " " + strings.Join(r.SelectedUsers, ",")
}

// changeDirectory stores the tenant's new directory, application or
// cloud, then ends what named accounts of the old one (endDirectory).
func (a *Auth) changeDirectory(ctx context.Context, t store.Tenant, m store.MS365, o origin) (string, error) {
	if a.bindingStore() == nil {
		return "", errNoBindingsStore
	}
	t.MS365 = &m
	if err := a.store().UpdateTenant(ctx, t); err != nil {
		return "", err
	}
	return a.endDirectory(ctx, t.ID, o)
}

// directoryChanged reports whether next names another directory,
// application or national cloud than prev: the accounts prev's links
// and bindings name are then another directory's.
func directoryChanged(prev, next *store.MS365) bool {
	var p, n store.MS365
	if prev != nil {
		p = *prev
	}
	if next != nil {
		n = *next
	}
	cloud := func(m store.MS365) string {
		if m.NationalCloud == "" {
			return cloudGlobal
		}
		return strings.ToUpper(m.NationalCloud)
	}
	return p.DirectoryID != n.DirectoryID || p.ApplicationID != n.ApplicationID || cloud(p) != cloud(n)
}

// endDirectory ends, after a change of the tenant's directory,
// application or cloud, what named accounts of the old one: every link
// and binding of the tenant, and the sign-ins made through them (each
// user's epoch advances, the other sign-ins carried over). It mails every
// Admin of the tenant and says what ended. A Store without bindings has
// nothing to end.
func (a *Auth) endDirectory(ctx context.Context, tenantID string, o origin) (string, error) {
	bs := a.bindingStore()
	if bs == nil {
		return "", nil
	}
	// After the settings: a sign-in that read the old ones and links now
	// is ended by the epoch below, and its link by the next change.
	reset, err := bs.ResetMicrosoft(ctx, tenantID)
	if err != nil {
		return "", err
	}
	for _, id := range reset.UserIDs {
		if err := a.endMicrosoftSignIns(ctx, id, tenantID, o); err != nil {
			return "", err
		}
	}
	a.mailTenantAdmins(ctx, tenantID, nil, "An administrator changed the tenant's Microsoft directory settings, which ended every Microsoft account link and binding")
	return fmt.Sprintf("%d links and %d bindings ended", reset.Links, reset.Bindings), nil
}

// MicrosoftSettings returns the Microsoft settings of the tenant of
// domain, as GET /ms365 answers them (never its credentials).
// ErrNotFound for an unknown domain, ErrInvalid for a malformed one.
func (a *Auth) MicrosoftSettings(ctx context.Context, domain string) (MicrosoftSettings, error) {
	t, err := a.findTenant(ctx, domain)
	if err != nil {
		return MicrosoftSettings{}, err
	}
	return a.microsoftSettings(ctx, t)
}

// SetMicrosoftSettings changes the Microsoft settings of the tenant of
// domain as POST /ms365 does (a merge: a nil member keeps its value, a
// rule given replaces the rule whole), reports
// EventMicrosoftSettingsChanged and returns the new settings. A change of
// directory, application or national cloud ends every link and binding
// of the tenant and the sign-ins made through them, and mails every Admin
// of the tenant. ErrInvalid for a value the API refuses (the text says
// which), with nothing changed; ErrNotFound for an unknown domain or a
// Store that keeps no Microsoft rules; ErrConflict when concurrent changes
// of the rules kept overtaking it. A tenant's secret or certificate is set
// with [Auth.UpdateTenant].
func (a *Auth) SetMicrosoftSettings(ctx context.Context, domain string, c MicrosoftSettingsChange) (MicrosoftSettings, error) {
	t, err := a.findTenant(ctx, domain)
	if err != nil {
		return MicrosoftSettings{}, err
	}
	return a.updateMicrosoft(ctx, t, c, "", origin{})
}

// getTenantMicrosoft365ProvisioningDetails serves GET /ms365: Admin of
// the tenant or a SystemAdmin.
func (a *Auth) getTenantMicrosoft365ProvisioningDetails(w http.ResponseWriter, r *http.Request) *apiError {
	ctx := r.Context()
	_, t, e := a.adminTenant(r)
	if e != nil {
		return e
	}
	s, err := a.microsoftSettings(ctx, t)
	if err != nil {
		return a.internal(ctx, "read Microsoft settings", err)
	}
	off := msSync{SelectedUsers: []string{}, SyncType: store.SelectAll}
	writeJSON(w, http.StatusOK, ms365Answer{MicrosoftSettings: s, Users: msSyncUsers{msSync: off},
		PersonalContacts: off, SharedMailbox: off, Events: off})
	return nil
}

// updateTenantMicrosoft365Provisioning serves POST /ms365: Admin of the
// tenant or a SystemAdmin, with a recent sign-in.
func (a *Auth) updateTenantMicrosoft365Provisioning(w http.ResponseWriter, r *http.Request) *apiError {
	p, t, e := a.changingTenant(w, r)
	if e != nil {
		return e
	}
	var req ms365Request
	if e := decodeJSON(w, r, &req); e != nil {
		return e
	}
	if e := req.notServed(); e != nil {
		return e
	}
	_, err := a.updateMicrosoft(r.Context(), t, req.MicrosoftSettingsChange, p.UserID, origin{ip: a.clientIP(r)})
	if e := a.changeAnswer(r, "update Microsoft settings", err); e != nil {
		return e
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
