// This file runs the subcommand groups ("user", "tenant"): the group's help,
// each command's flags and -h, its positional arguments, and an Auth on the
// -db store through which the command works.

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"text/tabwriter"

	"github.com/pbxauth/pbxauth"
)

// printFields prints one "name: value" line per row, the values aligned.
func printFields(out io.Writer, rows [][2]any) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	for _, row := range rows {
		fmt.Fprintf(tw, "%s:\t%v\n", row[0], row[1])
	}
	return tw.Flush()
}

// command is one subcommand of a group.
type command struct {
	name, args, help string
	// arg names its one positional argument (USERNAME, DOMAIN); "" when
	// it takes none.
	arg string
	// keys: the command seals secrets, so the Auth gets the -key-file key
	// the server uses.
	keys bool
	// flags adds the command's own flags; run does the work with the
	// positional arguments.
	flags func(fs *flag.FlagSet) func(ctx context.Context, a *pbxauth.Auth, args []string, out io.Writer) error
}

// groupUsage prints a group's commands.
func groupUsage(out io.Writer, group, args string, cmds []command) {
	fmt.Fprintf(out, "usage: example [-db DSN] %s COMMAND [flags] %s\n", group, args)
	fmt.Fprintln(out, "\nCommands (each with -h):")
	for _, c := range cmds {
		fmt.Fprintf(out, "  %-12s %s\n", c.name, c.help)
	}
}

// runGroup runs "example GROUP COMMAND ...": on the -db store of o (which
// the command's own -db may override), through the Go API.
func runGroup(ctx context.Context, o options, group, usage string, cmds []command, args []string, out io.Writer) error {
	if len(args) == 0 || slices.Contains([]string{"-h", "-help", "--help", "help"}, args[0]) {
		groupUsage(out, group, usage, cmds)
		if len(args) == 0 {
			return fmt.Errorf("%s: a command is required", group)
		}
		return flag.ErrHelp
	}
	i := slices.IndexFunc(cmds, func(c command) bool { return c.name == args[0] })
	if i < 0 {
		groupUsage(out, group, usage, cmds)
		return fmt.Errorf("%s: unknown command %q", group, args[0])
	}
	cmd := cmds[i]
	fs := flag.NewFlagSet("example "+group+" "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "usage: example %s %s %s\n\n%s.\n\n", group, cmd.name, cmd.args, cmd.help)
		fs.PrintDefaults()
	}
	db := fs.String("db", o.db, "memory, sqlite:PATH or a postgres:// URL (PBXAUTH_DB)")
	keyFile := o.keyFile
	if cmd.keys {
		fs.StringVar(&keyFile, "key-file", o.keyFile, "the server's -key-file, whose key seals secrets; default: pbxauth.key beside a SQLite file (PBXAUTH_KEY_FILE)")
	}
	do := cmd.flags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	switch {
	case cmd.arg == "" && fs.NArg() != 0:
		fs.Usage()
		return fmt.Errorf("%s %s: takes no argument, got %q", group, cmd.name, fs.Args())
	case cmd.arg != "" && fs.NArg() != 1:
		fs.Usage()
		return fmt.Errorf("%s %s: one %s is required", group, cmd.name, cmd.arg)
	}
	cfg := pbxauth.Config{Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	closeStore, err := openStore(ctx, *db, &cfg)
	if err != nil {
		return fmt.Errorf("open store %q: %w", redact(*db), err)
	}
	defer closeStore()
	if cmd.keys {
		if keyFile == "" {
			keyFile = keyFileFor(*db)
		}
		if cfg.EncryptionKeys, err = encryptionKeys(ctx, keyFile, *db, cfg.Store); err != nil {
			return err
		}
	}
	a, err := pbxauth.New(cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := do(ctx, a, fs.Args(), out); err != nil {
		return fmt.Errorf("%s %s: %w", group, cmd.name, err)
	}
	return nil
}
