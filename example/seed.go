// This file loads the seed file of DESIGN.md: system settings, callback
// origins, tenants and users, created when missing and never overwritten.

package main

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/store"
)

//go:embed demo-seed.json
var demoSeed []byte

// seedFile is the JSON seed format.
type seedFile struct {
	System *struct {
		store.System
		EnableTwoFactor bool `json:"enable_two_factor_authentication"`
	} `json:"system"`
	CallbackOrigins []string     `json:"callback_origins"`
	Tenants         []seedTenant `json:"tenants"`
	Users           []seedUser   `json:"users"`
}

type seedTenant struct {
	Name            string     `json:"name"`
	Domain          string     `json:"domain"`
	Website         string     `json:"website"`
	AvatarURL       string     `json:"avatar_url"`
	EnableTwoFactor bool       `json:"enable_two_factor_authentication"`
	MS365           *seedMS365 `json:"ms365"`
}

// seedMS365 is a tenant's Microsoft Entra ID settings in the seed.
type seedMS365 struct {
	ApplicationID string `json:"application_id"`
	DirectoryID   string `json:"directory_id"`
	ClientSecret  string `json:"client_secret"`
	// A certificate and its private key (PEM) instead of the secret.
	ClientCertificate      string `json:"client_certificate"`
	ClientPrivateKey       string `json:"client_private_key"`
	NationalCloud          string `json:"national_cloud"`
	Issuer                 string `json:"issuer"`
	MatchPreferredUsername bool   `json:"match_preferred_username"`
}

type seedUser struct {
	Username           string `json:"username"`
	Domain             string `json:"domain"`
	Password           string `json:"password"`
	Role               string `json:"role"`
	Email              string `json:"email"`
	TwoFactorEnabled   bool   `json:"two_factor_enabled"`
	PasswordForceReset bool   `json:"password_force_reset"`
	Disabled           bool   `json:"disabled"`
}

// readSeed reads the seed at path, or the built-in demo seed when path is "".
func readSeed(path string) (*seedFile, bool, error) {
	data, demo := demoSeed, path == ""
	if !demo {
		var err error
		if data, err = os.ReadFile(path); err != nil {
			return nil, false, err
		}
	}
	var s seedFile
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, false, fmt.Errorf("seed %s: %w", path, err)
	}
	return &s, demo, nil
}

// apply creates what the seed names and the store lacks. A user without a
// password in the demo seed (the system admin) gets adminPassword, or a
// generated one that is printed to out.
func (s *seedFile) apply(ctx context.Context, a *pbxauth.Auth, st store.Store, adminPassword string, out io.Writer) error {
	if s.System != nil {
		cur, err := st.System(ctx)
		if err != nil {
			return err
		}
		if cur == (store.System{}) {
			sys := s.System.System
			sys.EnableTwoFactor = s.System.EnableTwoFactor
			if err := st.PutSystem(ctx, sys); err != nil {
				return err
			}
		}
	}
	for _, t := range s.Tenants {
		if err := createTenant(ctx, a, t); err != nil {
			return err
		}
	}
	for _, u := range s.Users {
		if err := createUser(ctx, a, st, u, adminPassword, out); err != nil {
			return fmt.Errorf("seed user %q: %w", u.Username, err)
		}
	}
	return nil
}

// createTenant creates the seed's tenant unless its domain is taken,
// through the Go API, so that a seed is held to the API's rules and its
// Microsoft credentials are sealed as the API seals them.
func createTenant(ctx context.Context, a *pbxauth.Auth, t seedTenant) error {
	if _, err := a.Tenant(ctx, t.Domain); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("seed tenant %q: %w", t.Domain, err)
	}
	s := pbxauth.TenantSettings{Name: t.Name, Domain: t.Domain, Website: t.Website, AvatarURL: t.AvatarURL, EnableTwoFactor: t.EnableTwoFactor}
	if m := t.MS365; m != nil {
		s.MS365 = &store.MS365{ApplicationID: m.ApplicationID, DirectoryID: m.DirectoryID, ClientSecret: m.ClientSecret,
			ClientCertificate: m.ClientCertificate, ClientPrivateKey: m.ClientPrivateKey, NationalCloud: m.NationalCloud,
			Issuer: m.Issuer, MatchPreferredUsername: m.MatchPreferredUsername}
	}
	_, err := a.CreateTenant(ctx, s)
	if errors.Is(err, store.ErrConflict) { // another instance seeded it first
		return nil
	}
	if err != nil {
		return fmt.Errorf("seed tenant %q: %w", t.Domain, err)
	}
	return nil
}

func createUser(ctx context.Context, a *pbxauth.Auth, st store.Store, u seedUser, adminPassword string, out io.Writer) error {
	if !store.ValidUsername(u.Username) {
		return errors.New("invalid username")
	}
	tenantID := ""
	if u.Domain != "" {
		if store.IsReservedName(u.Username) {
			return errors.New("reserved names are for system users only")
		}
		t, err := st.TenantByDomain(ctx, u.Domain)
		if err != nil {
			return fmt.Errorf("tenant %q: %w", u.Domain, err)
		}
		tenantID = t.ID
	}
	if _, err := st.UserByName(ctx, tenantID, u.Username); err == nil {
		if u.Password == "" && tenantID == "" && adminPassword != "" {
			// Seeding never overwrites: say so, or a changed variable
			// would seem to have been taken.
			fmt.Fprintf(out, "PBXAUTH_ADMIN_PASSWORD ignored: %s exists already (its password is unchanged; use `example user passwd` to change it)\n", u.Username)
		}
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	pw, generated := u.Password, false
	if pw == "" && tenantID == "" && adminPassword != "" {
		pw = adminPassword
	} else if pw == "" {
		var b [15]byte
		rand.Read(b[:])
		pw, generated = base64.RawURLEncoding.EncodeToString(b[:]), true
	}
	// Through the Go API, so that a seed is held to the API's rules: the
	// role, pbxauth's own password rules (not a tenant's policy: the
	// operator chose these passwords), a well-formed email.
	_, err := a.CreateUser(ctx, pbxauth.NewUser{Domain: u.Domain, Username: u.Username, Password: pw, Email: u.Email, Role: u.Role,
		TwoFactorEnabled: u.TwoFactorEnabled, PasswordForceReset: u.PasswordForceReset, Disabled: u.Disabled, SkipTenantPolicy: true})
	if errors.Is(err, store.ErrConflict) { // another instance seeded it first
		return nil
	}
	if err == nil && generated {
		where := u.Username
		if u.Domain != "" {
			where += "@" + u.Domain
		}
		fmt.Fprintf(out, "generated password for %s: %s\n", where, pw)
	}
	return err
}
