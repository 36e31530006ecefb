// This file is "example client": a command-line client of a running server,
// built on package client, that signs in (asking for a second factor on the
// terminal) and keeps the session in a file between runs.

package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/pbxauth/pbxauth/client"
)

// clientCmd is one command of "example client".
type clientCmd struct {
	name, args, help string
	// nargs is how many positional arguments it takes.
	nargs int
	// flags adds the command's own flags; run does the work.
	flags func(fs *flag.FlagSet) func(ctx context.Context, c *client.Client, args []string, in *bufio.Reader, out io.Writer) error
}

var clientCmds = []clientCmd{
	{name: "sign-in", args: "[-domain DOMAIN] USERNAME", nargs: 1,
		help: "Sign in as USERNAME and keep the session in -tokens; the password is read from PBXAUTH_PASSWORD or the first line of stdin, a second factor's code from the next",
		flags: func(fs *flag.FlagSet) func(context.Context, *client.Client, []string, *bufio.Reader, io.Writer) error {
			// -domain is read by clientCommand, which makes the Client.
			return clientSignIn
		}},
	{name: "user", help: "Show the signed-in user, refreshing the session when due",
		flags: func(*flag.FlagSet) func(context.Context, *client.Client, []string, *bufio.Reader, io.Writer) error {
			return func(ctx context.Context, c *client.Client, _ []string, _ *bufio.Reader, out io.Writer) error {
				u, err := c.User(ctx)
				if err == nil {
					fmt.Fprintf(out, "%s (%s)\n", u.Username, u.Role)
				}
				return err
			}
		}},
	{name: "sessions", help: "List the user's sign-ins, the current one marked *",
		flags: func(*flag.FlagSet) func(context.Context, *client.Client, []string, *bufio.Reader, io.Writer) error {
			return func(ctx context.Context, c *client.Client, _ []string, _ *bufio.Reader, out io.Writer) error {
				ss, err := c.Sessions(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "\tID\tMETHOD\tLAST USED\tCLIENT")
				for _, s := range ss {
					mark := ""
					if s.Current {
						mark = "*"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s %s\n", mark, s.ID, s.Method, s.LastUsedAt.Format("2006-01-02 15:04"), s.ClientIP, s.UserAgent)
				}
				return tw.Flush()
			}
		}},
	{name: "revoke", args: "ID", nargs: 1, help: "End the user's sign-in ID (from sessions)",
		flags: func(*flag.FlagSet) func(context.Context, *client.Client, []string, *bufio.Reader, io.Writer) error {
			return func(ctx context.Context, c *client.Client, args []string, _ *bufio.Reader, _ io.Writer) error {
				return c.RevokeSession(ctx, args[0])
			}
		}},
	{name: "sign-out", args: "[-scope others|global]", help: "End the session at the server and forget it (-scope others: end the user's other sign-ins instead; global: all of them)",
		flags: func(fs *flag.FlagSet) func(context.Context, *client.Client, []string, *bufio.Reader, io.Writer) error {
			scope := fs.String("scope", "", "others or global; default: this session only")
			return func(ctx context.Context, c *client.Client, _ []string, _ *bufio.Reader, out io.Writer) error {
				if err := c.SignOut(ctx, *scope); err != nil {
					return err
				}
				fmt.Fprintln(out, "signed out")
				return nil
			}
		}},
}

// clientUsage prints the commands of "example client".
func clientUsage(out io.Writer) {
	fmt.Fprintln(out, "usage: example client COMMAND [-url URL] [-tokens FILE] [flags]")
	fmt.Fprintln(out, "\nA client of a running server; the session is kept in -tokens between runs.")
	fmt.Fprintln(out, "\nCommands (each with -h):")
	for _, c := range clientCmds {
		fmt.Fprintf(out, "  %-10s %s\n", c.name, c.help)
	}
}

// clientCommand runs "example client COMMAND ...", reading passwords and
// codes from in.
func clientCommand(ctx context.Context, args []string, getenv func(string) string, in io.Reader, out io.Writer) error {
	if len(args) == 0 || slices.Contains([]string{"-h", "-help", "--help", "help"}, args[0]) {
		clientUsage(out)
		if len(args) == 0 {
			return errors.New("client: a command is required")
		}
		return flag.ErrHelp
	}
	i := slices.IndexFunc(clientCmds, func(c clientCmd) bool { return c.name == args[0] })
	if i < 0 {
		clientUsage(out)
		return fmt.Errorf("client: unknown command %q", args[0])
	}
	cmd := clientCmds[i]
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	fs := flag.NewFlagSet("example client "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "usage: example client %s [-url URL] [-tokens FILE] %s\n\n%s.\n\n", cmd.name, cmd.args, cmd.help)
		fs.PrintDefaults()
	}
	base := fs.String("url", env("PBXAUTH_CLIENT_URL", "http://127.0.0.1:8887/api"), "the API's base URL, a pbxauth server's or a PortSIP PBX's (PBXAUTH_CLIENT_URL)")
	file := fs.String("tokens", env("PBXAUTH_CLIENT_TOKENS", "pbxauth-session.json"), "the file keeping the session, mode 0600; processes may share it (PBXAUTH_CLIENT_TOKENS)")
	domain := ""
	if cmd.name == "sign-in" {
		fs.StringVar(&domain, "domain", "", `the SIP domain of the user's tenant; "" for a system user`)
	}
	do := cmd.flags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != cmd.nargs {
		fs.Usage()
		return fmt.Errorf("client %s: takes %d argument(s), got %q", cmd.name, cmd.nargs, fs.Args())
	}
	c, err := client.New(client.Config{BaseURL: *base, Domain: domain, Tokens: client.FileTokens(*file), UserAgent: "pbxauth-example-client"})
	if err != nil {
		return err
	}
	r := bufio.NewReader(in)
	if cmd.name == "sign-in" {
		if pw := getenv("PBXAUTH_PASSWORD"); pw != "" {
			r = bufio.NewReader(io.MultiReader(strings.NewReader(pw+"\n"), in))
		}
	}
	if err := do(ctx, c, fs.Args(), r, out); err != nil {
		if errors.Is(err, client.ErrSignedOut) {
			return fmt.Errorf("client %s: not signed in (example client sign-in USERNAME)", cmd.name)
		}
		return fmt.Errorf("client %s: %w", cmd.name, err)
	}
	return nil
}

// clientSignIn signs in with the password read from in, then the second
// factor's code when the account asks for one.
func clientSignIn(ctx context.Context, c *client.Client, args []string, in *bufio.Reader, out io.Writer) error {
	password, err := readLine(in, out, "password: ")
	if err != nil {
		return err
	}
	sf, err := c.SignIn(ctx, args[0], password)
	if err != nil {
		return err
	}
	if sf != nil {
		factor, err := sf.SendCode(ctx)
		if err != nil {
			return err
		}
		prompt := "code from your authenticator app (or a recovery code): "
		if factor != "app" {
			prompt = "code sent by email: "
		}
		code, err := readLine(in, out, prompt)
		if err != nil {
			return err
		}
		if err := sf.Verify(ctx, code); err != nil {
			return err
		}
	}
	u, err := c.User(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "signed in as %s (%s)\n", u.Username, u.Role)
	return nil
}

// readLine prompts on out and reads one line of in.
func readLine(in *bufio.Reader, out io.Writer, prompt string) (string, error) {
	fmt.Fprint(out, prompt)
	line, err := in.ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if line == "" && err != nil {
		return "", fmt.Errorf("reading %s%w", prompt, err)
	}
	return line, nil
}
