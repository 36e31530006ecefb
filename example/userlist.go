// This file holds the "user" subcommands that only read: show (one user)
// and list (a tenant's users, or the system users), through pbxauth's Go
// API.

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/store"
)

// userShow prints what is known of one user.
var userShow = subcommand{"show", "[-domain D] USERNAME", "prints the user: role, email, flags, live sign-ins",
	func(fs *flag.FlagSet) func(context.Context, *pbxauth.Auth, account, io.Writer) error {
		return func(ctx context.Context, a *pbxauth.Auth, who account, out io.Writer) error {
			u, err := who.find(ctx, a)
			if err != nil {
				return err
			}
			live, err := a.Sessions(ctx, u.ID)
			if err != nil {
				return err
			}
			password := "none (Microsoft sign-in only)"
			if u.PasswordHash != "" {
				password = "set"
			}
			return printFields(out, [][2]any{
				{"user", who}, {"id", u.ID}, {"role", u.Role}, {"email", u.Email}, {"password", password},
				{"two factor", u.TwoFactorEnabled}, {"password force reset", u.PasswordForceReset},
				{"disabled", u.Disabled}, {"live sign-ins", len(live)},
			})
		}
	}}

// userList lists the users of a tenant, or the system users, in username
// order, reading them a page at a time.
var userList = command{name: "list", args: "[-domain D]", help: "lists the users of the tenant (the system users without -domain) by username",
	flags: func(fs *flag.FlagSet) func(context.Context, *pbxauth.Auth, []string, io.Writer) error {
		domain := domainFlag(fs)
		return func(ctx context.Context, a *pbxauth.Auth, _ []string, out io.Writer) error {
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "USERNAME\tROLE\tEMAIL\tTWO FACTOR\tDISABLED\tID")
			err := eachPage(func(after string) ([]store.User, string, error) { return a.Users(ctx, *domain, after, 0) },
				func(u store.User) {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%v\t%s\n", u.Username, u.Role, u.Email, u.TwoFactorEnabled, u.Disabled, u.ID)
				})
			if err != nil {
				return err
			}
			return tw.Flush()
		}
	}}

// eachPage calls each for every record of the pages list gives, from the
// first to the last.
func eachPage[T any](list func(after string) ([]T, string, error), each func(T)) error {
	for after := ""; ; {
		page, next, err := list(after)
		if err != nil {
			return err
		}
		for _, r := range page {
			each(r)
		}
		if next == "" {
			return nil
		}
		after = next
	}
}
