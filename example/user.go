// This file holds the "user" subcommands, which operate on the -db store
// through pbxauth's Go API: add, passwd, disable, reset-passkeys, enable,
// unlock, sessions and signout-all, each with -h (show and list: userlist.go).

package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/store"
)

// subcommand is one "user" subcommand.
type subcommand struct {
	name, args, help string
	// flags adds the subcommand's own flags; run does the work on the
	// user named by the positional argument.
	flags func(fs *flag.FlagSet) func(ctx context.Context, a *pbxauth.Auth, who account, out io.Writer) error
}

// account is the user a subcommand names: -domain and USERNAME.
type account struct{ domain, username string }

func (w account) String() string {
	if w.domain == "" {
		return w.username
	}
	return w.username + "@" + w.domain
}

// find returns the user, or an error a shell user understands.
func (w account) find(ctx context.Context, a *pbxauth.Auth) (store.User, error) {
	u, err := a.FindUser(ctx, w.domain, w.username)
	if errors.Is(err, store.ErrNotFound) {
		return u, fmt.Errorf("no user %s", w)
	}
	return u, err
}

var userCommands = []subcommand{
	{"add", "[-domain D] -role ROLE [-email E] [-password-file F] [-force-reset] [-two-factor] USERNAME",
		"creates a user; without -password-file a password is generated and printed",
		func(fs *flag.FlagSet) func(context.Context, *pbxauth.Auth, account, io.Writer) error {
			role := fs.String("role", "", "the role: SystemAdmin, Replicator or Dealer for a system user; Admin, StandardUser, StandardInternationalUser or QueueManager in a tenant")
			email := fs.String("email", "", "the user's email, for codes and reset links")
			pwFile := passwordFlag(fs)
			force := fs.Bool("force-reset", false, "the user must change the password at the next sign-in")
			twoFactor := fs.Bool("two-factor", false, "require the emailed second factor")
			return func(ctx context.Context, a *pbxauth.Auth, who account, out io.Writer) error {
				pw, generated, err := readPassword(*pwFile)
				if err != nil {
					return err
				}
				u, err := a.CreateUser(ctx, pbxauth.NewUser{Domain: who.domain, Username: who.username, Password: pw,
					Email: *email, Role: *role, PasswordForceReset: *force, TwoFactorEnabled: *twoFactor,
					SkipTenantPolicy: true}) // an operator's choice: pbxauth's own rules only
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "created %s (%s), id %s\n", who, u.Role, u.ID)
				if generated {
					fmt.Fprintf(out, "generated password for %s: %s\n", who, pw)
				}
				return nil
			}
		}},
	{"passwd", "[-domain D] [-password-file F] [-force-reset] USERNAME",
		"sets a new password and ends every sign-in of the user; without -password-file one is generated and printed",
		func(fs *flag.FlagSet) func(context.Context, *pbxauth.Auth, account, io.Writer) error {
			pwFile := passwordFlag(fs)
			force := fs.Bool("force-reset", false, "the user must change the password at the next sign-in")
			return func(ctx context.Context, a *pbxauth.Auth, who account, out io.Writer) error {
				u, err := who.find(ctx, a)
				if err != nil {
					return err
				}
				pw, generated, err := readPassword(*pwFile)
				if err != nil {
					return err
				}
				if err := a.SetPassword(ctx, u.ID, pw, *force); err != nil {
					return err
				}
				fmt.Fprintf(out, "password of %s changed; every sign-in ended\n", who)
				if generated {
					fmt.Fprintf(out, "generated password for %s: %s\n", who, pw)
				}
				return nil
			}
		}},
	{"disable", "[-domain D] USERNAME", "refuses the user's sign-ins and ends every sign-in of the user",
		onUser(func(ctx context.Context, a *pbxauth.Auth, u store.User) (string, error) {
			return "disabled %s; every sign-in ended\n", a.DisableUser(ctx, u.ID)
		})},
	{"reset-passkeys", "[-domain D] USERNAME", "removes every passkey of the user (a lost device) and ends every sign-in of the user",
		onUser(func(ctx context.Context, a *pbxauth.Auth, u store.User) (string, error) {
			return "removed every passkey of %s; every sign-in ended\n", a.ResetPasskeys(ctx, u.ID)
		})},
	{"enable", "[-domain D] USERNAME", "lets a disabled user sign in again",
		onUser(func(ctx context.Context, a *pbxauth.Auth, u store.User) (string, error) {
			return "enabled %s\n", a.EnableUser(ctx, u.ID)
		})},
	{"unlock", "[-domain D] USERNAME", "lifts the lock that failed sign-ins put on the name (whether or not such a user exists)",
		func(fs *flag.FlagSet) func(context.Context, *pbxauth.Auth, account, io.Writer) error {
			return func(ctx context.Context, a *pbxauth.Auth, who account, out io.Writer) error {
				if err := a.Unlock(ctx, who.domain, who.username); err != nil {
					return err
				}
				fmt.Fprintf(out, "unlocked %s\n", who)
				return nil
			}
		}},
	{"sessions", "[-domain D] USERNAME", "lists the user's live sign-ins, newest first",
		func(fs *flag.FlagSet) func(context.Context, *pbxauth.Auth, account, io.Writer) error {
			return func(ctx context.Context, a *pbxauth.Auth, who account, out io.Writer) error {
				u, err := who.find(ctx, a)
				if err != nil {
					return err
				}
				list, err := a.Sessions(ctx, u.ID)
				if err != nil {
					return err
				}
				if len(list) == 0 {
					fmt.Fprintf(out, "%s has no live sign-ins\n", who)
					return nil
				}
				tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tMETHOD\tSIGNED IN\tLAST USED\tEXPIRES\tADDRESS\tAGENT")
				for _, f := range list {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.ID, f.Method, stamp(f.CreatedAt), stamp(f.LastUsedAt),
						stamp(f.ExpiresAt), f.ClientIP, f.UserAgent)
				}
				return tw.Flush()
			}
		}},
	{"signout-all", "[-domain D] USERNAME", "ends every sign-in of the user, cookie sessions included",
		func(fs *flag.FlagSet) func(context.Context, *pbxauth.Auth, account, io.Writer) error {
			return func(ctx context.Context, a *pbxauth.Auth, who account, out io.Writer) error {
				u, err := who.find(ctx, a)
				if err != nil {
					return err
				}
				n, err := a.SignOutEverywhere(ctx, u.ID)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "ended %d sign-in(s) of %s\n", n, who)
				return nil
			}
		}},
}

// onUser is a subcommand without flags of its own that calls do on the
// named user and prints do's message, a format with the account's %s.
func onUser(do func(context.Context, *pbxauth.Auth, store.User) (string, error)) func(*flag.FlagSet) func(context.Context, *pbxauth.Auth, account, io.Writer) error {
	return func(*flag.FlagSet) func(context.Context, *pbxauth.Auth, account, io.Writer) error {
		return func(ctx context.Context, a *pbxauth.Auth, who account, out io.Writer) error {
			u, err := who.find(ctx, a)
			if err != nil {
				return err
			}
			msg, err := do(ctx, a, u)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, msg, who)
			return nil
		}
	}
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func passwordFlag(fs *flag.FlagSet) *string {
	return fs.String("password-file", "", `read the password from the first line of this file ("-" for stdin), so that it shows in no process list or shell history`)
}

// readPassword reads the first line of path ("-": stdin), or generates a
// password when path is "".
func readPassword(path string) (pw string, generated bool, err error) {
	if path == "" {
		var b [15]byte
		rand.Read(b[:])
		return base64.RawURLEncoding.EncodeToString(b[:]), true, nil
	}
	pw, err = readSecret(path, true)
	if err == nil && pw == "" {
		err = errors.New("the password file is empty")
	}
	return pw, false, err
}

// readSecret reads the file at path ("-": stdin), whole or only its first
// line, without the line's end: secrets come from files or a pipe, never
// from arguments, which show in process lists and shell histories.
func readSecret(path string, firstLine bool) (string, error) {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return "", err
		}
		defer f.Close()
		r = f
	}
	if !firstLine {
		b, err := io.ReadAll(r)
		return string(b), err
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// userCommand runs "example user COMMAND ...": on the -db store of o (which
// the subcommand's own -db may override), through the Go API.
func userCommand(ctx context.Context, o options, args []string, out io.Writer) error {
	cmds := []command{}
	for _, sub := range append(append(userCommands, userShow), ms365UserCommands...) {
		cmds = append(cmds, sub.command())
	}
	return runGroup(ctx, o, "user", "[USERNAME]", append(cmds, userList), args, out)
}

// command makes sub a command of the "user" group: -domain and USERNAME
// name the user it acts on.
func (sub subcommand) command() command {
	return command{name: sub.name, args: sub.args, help: sub.help, arg: "USERNAME",
		flags: func(fs *flag.FlagSet) func(context.Context, *pbxauth.Auth, []string, io.Writer) error {
			domain := domainFlag(fs)
			do := sub.flags(fs)
			return func(ctx context.Context, a *pbxauth.Auth, args []string, out io.Writer) error {
				return do(ctx, a, account{*domain, args[0]}, out)
			}
		}}
}

// domainFlag is -domain of the user subcommands.
func domainFlag(fs *flag.FlagSet) *string {
	return fs.String("domain", "", `the SIP domain of the user's tenant; "" for a system user`)
}
