// This file holds "tenant policy", the CLI's counterpart of GET and POST
// /tenant/password_policy: it prints a tenant's password policy and, with
// flags, first changes the rules they name (a merge, as the POST is: a rule
// not named keeps its value).

package main

import (
	"context"
	"flag"
	"io"

	"github.com/pbxauth/pbxauth"
)

var tenantPolicy = command{name: "policy", arg: "DOMAIN",
	args: "[-min-length N] [-max-length N] [-letters=BOOL] [-numbers=BOOL] [-special=BOOL] [-no-sequential=BOOL] [-no-repeating=BOOL] [-no-account-info=BOOL] DOMAIN",
	help: "prints the tenant's password policy; flags first change the rules they name, the others keep their values",
	flags: func(fs *flag.FlagSet) func(context.Context, *pbxauth.Auth, []string, io.Writer) error {
		// Each flag, when given, sets its member of the change; a rule
		// whose flag is absent keeps its stored value.
		var c pbxauth.PasswordPolicyChange
		given := map[string]func(){}
		length := func(dst **int, name, usage string) {
			v := fs.Int(name, 0, usage)
			given[name] = func() { *dst = v }
		}
		rule := func(dst **bool, name, usage string) {
			v := fs.Bool(name, false, usage)
			given[name] = func() { *dst = v }
		}
		length(&c.MinLength, "min-length", "the shortest new password, in characters (at least the server's floor, 8)")
		length(&c.MaxLength, "max-length", "the longest new password, in characters (at most 256)")
		rule(&c.ContainsLetters, "letters", "new passwords must contain a letter")
		rule(&c.ContainsNumbers, "numbers", "new passwords must contain a digit")
		rule(&c.ContainsSpecialLetters, "special", "new passwords must contain an uppercase letter or a character that is neither letter nor digit")
		rule(&c.DisableSequentialCharacters, "no-sequential", "refuse 4 or more sequential letters or digits (abcd, 4321)")
		rule(&c.DisableRepeatingCharacters, "no-repeating", "refuse 4 or more of one character in a row")
		rule(&c.DisableAccountInformation, "no-account-info", "refuse the username, the email's local part or a label of the domain")
		return func(ctx context.Context, a *pbxauth.Auth, args []string, out io.Writer) error {
			changed := false
			fs.Visit(func(f *flag.Flag) { given[f.Name](); changed = true })
			var got pbxauth.TenantPasswordPolicy
			var err error
			if changed {
				got, err = a.SetPasswordPolicy(ctx, args[0], c)
			} else {
				got, err = a.PasswordPolicy(ctx, args[0])
			}
			if err != nil {
				return err
			}
			return printFields(out, [][2]any{
				{"min length", got.MinLength}, {"max length", got.MaxLength},
				{"letters", got.ContainsLetters}, {"numbers", got.ContainsNumbers}, {"special", got.ContainsSpecialLetters},
				{"no sequential", got.DisableSequentialCharacters}, {"no repeating", got.DisableRepeatingCharacters},
				{"no account info", got.DisableAccountInformation},
			})
		}
	}}
