// This file holds the command-line counterparts of PortSIP's Microsoft
// 365 operations that pbxauth serves: "tenant ms365" and "tenant
// ms365-set" read and change a tenant's Microsoft settings and sign-in
// rules (GET and POST /ms365), "user ms365-bind" and "user ms365-unbind"
// bind a user to a Microsoft account (POST /users/{id}/ms365_binding and
// its destroy), each through pbxauth's Go API.

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/store"
)

// ms365TenantCommands are the "tenant" commands of Microsoft settings.
var ms365TenantCommands = []command{
	{name: "ms365", args: "DOMAIN", arg: "DOMAIN", help: "prints the tenant's Microsoft settings and sign-in rules",
		flags: func(fs *flag.FlagSet) func(context.Context, *pbxauth.Auth, []string, io.Writer) error {
			return func(ctx context.Context, a *pbxauth.Auth, args []string, out io.Writer) error {
				s, err := a.MicrosoftSettings(ctx, args[0])
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("no tenant has the domain %q", args[0])
				}
				if err != nil {
					return err
				}
				return printMicrosoftSettings(out, s)
			}
		}},
	{name: "ms365-set", arg: "DOMAIN",
		args: "[-directory-id GUID] [-application-id ID] [-national-cloud GLOBAL|CHINA] [-admin-rule RULE] [-user-rule RULE] DOMAIN",
		help: "changes the tenant's Microsoft settings; a new directory, application or cloud ends every Microsoft link and binding of the tenant",
		flags: func(fs *flag.FlagSet) func(context.Context, *pbxauth.Auth, []string, io.Writer) error {
			var c pbxauth.MicrosoftSettingsChange
			text := func(name, usage string, to **string) {
				fs.Func(name, usage, func(v string) error { *to = &v; return nil })
			}
			text("directory-id", "the Entra directory (tenant) ID, a GUID", &c.DirectoryID)
			text("application-id", "the Entra application (client) ID", &c.ApplicationID)
			text("national-cloud", "GLOBAL or CHINA", &c.NationalCloud)
			ruleUsage := `who may sign in with Microsoft: "off", "ALL", "INCLUDE:ID,..." or "EXCLUDE:ID,..." (IDs are object IDs or UPNs)`
			fs.Func("admin-rule", "for users with the role Admin, "+ruleUsage, ruleFlag(&c.SignInAsAdministrator))
			fs.Func("user-rule", "for users of every other role, "+ruleUsage, ruleFlag(&c.SignInAsStandardUser))
			return func(ctx context.Context, a *pbxauth.Auth, args []string, out io.Writer) error {
				s, err := a.SetMicrosoftSettings(ctx, args[0], c)
				if err != nil {
					return err
				}
				return printMicrosoftSettings(out, s)
			}
		}},
}

// ruleFlag parses a -admin-rule or -user-rule value into *to.
func ruleFlag(to **pbxauth.MicrosoftSignInRule) func(string) error {
	return func(v string) error {
		r := &pbxauth.MicrosoftSignInRule{Enabled: true}
		kind, list, _ := strings.Cut(v, ":")
		switch kind {
		case "off":
			r = &pbxauth.MicrosoftSignInRule{SyncType: store.SelectAll}
		case store.SelectAll:
			r.SyncType = kind
		case store.SelectInclude, store.SelectExclude:
			r.SyncType = kind
			for _, id := range strings.Split(list, ",") {
				if id = strings.TrimSpace(id); id != "" {
					r.SelectedUsers = append(r.SelectedUsers, id)
				}
			}
		default:
			return fmt.Errorf(`%q is not "off", "ALL", "INCLUDE:..." or "EXCLUDE:..."`, v)
		}
		if list != "" && (kind == "off" || kind == store.SelectAll) {
			return fmt.Errorf("%q: only INCLUDE and EXCLUDE take a list", v)
		}
		*to = r
		return nil
	}
}

// printMicrosoftSettings prints s, one setting a line.
func printMicrosoftSettings(out io.Writer, s pbxauth.MicrosoftSettings) error {
	rule := func(r pbxauth.MicrosoftSignInRule) string {
		switch {
		case !r.Enabled:
			return "off"
		case r.SyncType == store.SelectAll:
			return store.SelectAll
		}
		return r.SyncType + ":" + strings.Join(r.SelectedUsers, ",")
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	for _, row := range [][2]string{{"directory id", s.DirectoryID}, {"application id", s.ApplicationID},
		{"national cloud", s.NationalCloud}, {"redirect uri", s.RedirectURI},
		{"admin rule", rule(s.SignInAsAdministrator)}, {"user rule", rule(s.SignInAsStandardUser)}} {
		fmt.Fprintf(tw, "%s:\t%s\n", row[0], row[1])
	}
	return tw.Flush()
}

// ms365UserCommands are the "user" commands of Microsoft bindings.
var ms365UserCommands = []subcommand{
	{"ms365-bind", "-account ID [-domain D] USERNAME",
		"binds a tenant user to a Microsoft account of the tenant's directory (object ID or UPN), which then signs in as the user with no email match",
		func(fs *flag.FlagSet) func(context.Context, *pbxauth.Auth, account, io.Writer) error {
			id := fs.String("account", "", "the Microsoft account: its object ID (a GUID) or its user principal name")
			return func(ctx context.Context, a *pbxauth.Auth, who account, out io.Writer) error {
				u, err := who.find(ctx, a)
				if err != nil {
					return err
				}
				if err := a.BindMicrosoftAccount(ctx, u.ID, *id); err != nil {
					return err
				}
				fmt.Fprintf(out, "bound %s to the Microsoft account %s; its earlier links and Microsoft sign-ins ended\n", who, *id)
				return nil
			}
		}},
	{"ms365-unbind", "[-domain D] USERNAME", "removes the user's Microsoft binding and links, and ends its Microsoft sign-ins",
		onUser(func(ctx context.Context, a *pbxauth.Auth, u store.User) (string, error) {
			return "unbound %s from Microsoft\n", a.UnbindMicrosoftAccount(ctx, u.ID)
		})},
}
