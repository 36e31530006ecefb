// This file holds the "tenant" subcommands, which operate on the -db store
// through pbxauth's Go API: add, list, show, policy (tenantpolicy.go) and
// ms365-cert, each with -h (and the Microsoft settings' commands of
// ms365cli.go). A Microsoft client secret or private key is read from a
// file or standard input, never from an argument, and sealed with the
// server's -key-file key.

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/store"
)

// tenantCommand runs "example tenant COMMAND ...".
func tenantCommand(ctx context.Context, o options, args []string, out io.Writer) error {
	return runGroup(ctx, o, "tenant", "[DOMAIN]", tenantCommands, args, out)
}

var tenantCommands = append([]command{
	{name: "add", arg: "DOMAIN", keys: true,
		args: "-name NAME [-website URL] [-two-factor] [-ms365-application-id ID -ms365-directory-id ID (-ms365-secret-file F | -ms365-certificate F -ms365-private-key-file F) ...] DOMAIN",
		help: "creates a tenant with the SIP domain DOMAIN, optionally with Microsoft sign-in",
		flags: func(fs *flag.FlagSet) func(context.Context, *pbxauth.Auth, []string, io.Writer) error {
			var s pbxauth.TenantSettings
			fs.StringVar(&s.Name, "name", "", "the tenant's name, as GET /info shows it")
			fs.StringVar(&s.Website, "website", "", "the tenant's website")
			fs.BoolVar(&s.EnableTwoFactor, "two-factor", false, "require the emailed second factor of every user of the tenant")
			ms := ms365Flags(fs)
			return func(ctx context.Context, a *pbxauth.Auth, args []string, out io.Writer) error {
				s.Domain = args[0]
				var err error
				if s.MS365, err = ms.settings(); err != nil {
					return err
				}
				t, err := a.CreateTenant(ctx, s)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "created tenant %s (%s), id %s\n", t.Domain, t.Name, t.ID)
				return nil
			}
		}},
	{name: "list", args: "", help: "lists the tenants by domain",
		flags: func(fs *flag.FlagSet) func(context.Context, *pbxauth.Auth, []string, io.Writer) error {
			return func(ctx context.Context, a *pbxauth.Auth, _ []string, out io.Writer) error {
				tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "DOMAIN\tNAME\tTWO FACTOR\tMICROSOFT\tID")
				err := eachPage(func(after string) ([]store.Tenant, string, error) { return a.Tenants(ctx, after, 0) },
					func(t store.Tenant) {
						fmt.Fprintf(tw, "%s\t%s\t%v\t%v\t%s\n", t.Domain, t.Name, t.EnableTwoFactor, t.MS365 != nil, t.ID)
					})
				if err != nil {
					return err
				}
				return tw.Flush()
			}
		}},
	{name: "show", args: "DOMAIN", arg: "DOMAIN", help: "prints the tenant's settings (never its Microsoft secret or private key)",
		flags: func(fs *flag.FlagSet) func(context.Context, *pbxauth.Auth, []string, io.Writer) error {
			return func(ctx context.Context, a *pbxauth.Auth, args []string, out io.Writer) error {
				t, err := a.Tenant(ctx, args[0])
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("no tenant has the domain %q", args[0])
				}
				if err != nil {
					return err
				}
				rows := [][2]any{{"domain", t.Domain}, {"id", t.ID}, {"name", t.Name}, {"website", t.Website},
					{"avatar url", t.AvatarURL}, {"two factor", t.EnableTwoFactor}, {"microsoft", t.MS365 != nil}}
				if m := t.MS365; m != nil {
					credential := "client secret (not shown)"
					if m.UsesCertificate() {
						credential = "certificate and private key (not shown)"
					}
					rows = append(rows, [][2]any{{"application id", m.ApplicationID}, {"directory id", m.DirectoryID},
						{"national cloud", m.NationalCloud}, {"issuer", m.Issuer}, {"credential", credential},
						{"match preferred_username", m.MatchPreferredUsername}}...)
				}
				tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				for _, row := range rows {
					fmt.Fprintf(tw, "%s:\t%v\n", row[0], row[1])
				}
				return tw.Flush()
			}
		}},
	tenantPolicy,
	{name: "ms365-cert", args: "[-generate] [-o FILE] DOMAIN", arg: "DOMAIN", keys: true,
		help: "prints the tenant's Microsoft certificate (PEM) to upload to Entra; -generate makes a new key pair first",
		flags: func(fs *flag.FlagSet) func(context.Context, *pbxauth.Auth, []string, io.Writer) error {
			generate := fs.Bool("generate", false, "make a new RSA 3072 key pair and self-signed certificate (the key stays sealed in the database)")
			file := fs.String("o", "", "write the certificate to this file (DOMAIN.cer, say) instead of standard output")
			return func(ctx context.Context, a *pbxauth.Auth, args []string, out io.Writer) error {
				if *generate {
					if _, err := a.GenerateMicrosoftCertificate(ctx, args[0]); err != nil {
						return err
					}
				}
				c, err := a.MicrosoftCertificate(ctx, args[0])
				if err != nil {
					return err
				}
				if *file == "" {
					_, err := io.WriteString(out, c.PEM)
					return err
				}
				if err := os.WriteFile(*file, []byte(c.PEM), 0o644); err != nil { // a certificate is public
					return err
				}
				fmt.Fprintf(out, "wrote %s; confirmed by Entra: %v; the earlier credential stands in: %v\n", *file, c.Confirmed, c.Fallback)
				return nil
			}
		}},
}, ms365TenantCommands...)

// ms365Options are the -ms365-* flags of "tenant add".
type ms365Options struct {
	m                             store.MS365
	secretFile, certFile, keyFile string
}

func ms365Flags(fs *flag.FlagSet) *ms365Options {
	o := &ms365Options{}
	fs.StringVar(&o.m.ApplicationID, "ms365-application-id", "", "the Entra application (client) ID; enables Microsoft sign-in")
	fs.StringVar(&o.m.DirectoryID, "ms365-directory-id", "", "the Entra directory (tenant) ID")
	fs.StringVar(&o.m.NationalCloud, "ms365-national-cloud", "GLOBAL", "GLOBAL or CHINA")
	fs.StringVar(&o.m.Issuer, "ms365-issuer", "", "overrides the issuer derived from the directory and cloud")
	fs.BoolVar(&o.m.MatchPreferredUsername, "ms365-match-preferred-username", false, "also match an unlinked member account by its UPN")
	fs.StringVar(&o.secretFile, "ms365-secret-file", "", `read the client secret from the first line of this file ("-" for stdin)`)
	fs.StringVar(&o.certFile, "ms365-certificate", "", "PEM file of the certificate uploaded to Entra, instead of a secret")
	fs.StringVar(&o.keyFile, "ms365-private-key-file", "", `PEM file of the certificate's private key ("-" for stdin)`)
	return o
}

// settings are the Microsoft settings the flags name; nil without
// -ms365-application-id.
func (o *ms365Options) settings() (*store.MS365, error) {
	if o.m.ApplicationID == "" {
		if o.secretFile != "" || o.certFile != "" || o.keyFile != "" || o.m.DirectoryID != "" {
			return nil, errors.New("-ms365-application-id is required with the other -ms365 flags")
		}
		return nil, nil
	}
	m := o.m
	var err error
	if o.secretFile != "" {
		if m.ClientSecret, err = readSecret(o.secretFile, true); err != nil {
			return nil, fmt.Errorf("-ms365-secret-file: %w", err)
		}
	}
	if o.certFile != "" {
		if m.ClientCertificate, err = readSecret(o.certFile, false); err != nil {
			return nil, fmt.Errorf("-ms365-certificate: %w", err)
		}
	}
	if o.keyFile != "" {
		if m.ClientPrivateKey, err = readSecret(o.keyFile, false); err != nil {
			return nil, fmt.Errorf("-ms365-private-key-file: %w", err)
		}
	}
	return &m, nil
}
