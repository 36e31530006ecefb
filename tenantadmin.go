// This file is the tenants' part of "Operating it from Go": creating,
// changing, finding and listing tenants, validated as the API validates a
// tenant's fields, with their Microsoft credentials sealed at rest
// (ms365seal.go) and never returned.

package pbxauth

import (
	"context"
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/pbxauth/pbxauth/store"
)

// Events of the tenants' Go API.
const (
	// EventTenantCreated: [Auth.CreateTenant] created the tenant
	// (Event.TenantID).
	EventTenantCreated EventKind = "tenant_created"
	// EventTenantUpdated: [Auth.UpdateTenant] changed the tenant's
	// settings (Event.TenantID).
	EventTenantUpdated EventKind = "tenant_updated"
)

// Limits of a tenant's fields: PortSIP's maxLength of name and website.
const (
	maxTenantName = 1024 // characters
	maxWebsite    = 255  // characters
	maxAvatarURL  = 2048 // characters
)

// TenantSettings are what a host sets of a tenant with [Auth.CreateTenant]
// and [Auth.UpdateTenant].
type TenantSettings struct {
	// Name is the tenant's name, as GET /info shows it: 1–1024 characters,
	// no control characters.
	Name string
	// Domain is the tenant's SIP domain, which its users sign in with:
	// 1–280 printable ASCII characters without spaces, unique
	// case-insensitively.
	Domain string
	// Website (at most 255 characters) and AvatarURL (at most 2048), as
	// GET /info shows them; no control characters.
	Website   string
	AvatarURL string
	// EnableTwoFactor requires the emailed second factor of every user of
	// the tenant.
	EnableTwoFactor bool
	// PasskeyNotTwoFactor sets passkey_satisfies_two_factor false: a
	// passkey sign-in of a user who needs a second factor then asks for
	// another factor. Default false: a passkey with user verification is
	// two factors (possession and the device's PIN or biometric).
	PasskeyNotTwoFactor bool
	// MS365 is the tenant's Microsoft Entra ID application, nil for none;
	// checked with store.MS365.Validate. With Config.EncryptionKeys its
	// ClientSecret and ClientPrivateKey are sealed at rest; no method
	// returns them. In UpdateTenant, an empty ClientSecret keeps the stored
	// one while the settings use no certificate and ApplicationID stays,
	// and an empty ClientPrivateKey keeps the stored key while
	// ClientCertificate stays, so that settings read back (without them)
	// can be written back. A certificate generated for the tenant
	// ([Auth.GenerateMicrosoftCertificate], POST /ms365/certificate) is
	// used instead of the credential here, until UpdateTenant sets
	// another credential (or none): that forgets the generated one.
	MS365 *store.MS365
}

// SettingsOf returns the settings of t, as a tenant read with
// [Auth.Tenant] or [Auth.Tenants] has them (without Microsoft
// credentials), to change and give to [Auth.UpdateTenant].
func SettingsOf(t store.Tenant) TenantSettings {
	s := TenantSettings{Name: t.Name, Domain: t.Domain, Website: t.Website, AvatarURL: t.AvatarURL, EnableTwoFactor: t.EnableTwoFactor,
		PasskeyNotTwoFactor: t.PasskeyNotTwoFactor}
	if t.MS365 != nil {
		m := *t.MS365
		s.MS365 = &m
	}
	return s
}

// check validates s as the API validates a tenant's fields.
func (s TenantSettings) check() error {
	if err := apiErr(checkDomain(s.Domain, true)); err != nil {
		return err
	}
	if err := checkText("name", s.Name, 1, maxTenantName); err != nil {
		return err
	}
	if err := checkText("website", s.Website, 0, maxWebsite); err != nil {
		return err
	}
	if err := checkText("avatar_url", s.AvatarURL, 0, maxAvatarURL); err != nil {
		return err
	}
	if m := s.MS365; m != nil {
		if sealed(m.ClientSecret) || sealed(m.ClientPrivateKey) {
			return invalidf("ms365: the client secret and private key are given as they are, not sealed")
		}
		if err := m.Validate(); err != nil {
			return fmt.Errorf("%w: ms365: %w", ErrInvalid, err)
		}
	}
	return nil
}

// checkText accepts UTF-8 text of min to max characters without control
// characters.
func checkText(field, s string, min, max int) error {
	n := utf8.RuneCountInString(s)
	if !utf8.ValidString(s) || n < min || n > max {
		return invalidf("%s must be %d-%d characters", field, min, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return invalidf("%s must not hold control characters", field)
		}
	}
	return nil
}

// tenantRecord is the tenant id with settings s, its credentials sealed.
func (a *Auth) tenantRecord(id string, s TenantSettings) (store.Tenant, error) {
	m, err := a.sealMS365(id, s.MS365)
	if err != nil {
		return store.Tenant{}, err
	}
	return store.Tenant{ID: id, Name: s.Name, Domain: s.Domain, Website: s.Website, AvatarURL: s.AvatarURL,
		EnableTwoFactor: s.EnableTwoFactor, PasskeyNotTwoFactor: s.PasskeyNotTwoFactor, MS365: m}, nil
}

// CreateTenant validates s (see [TenantSettings]), stores a tenant with a
// new ID, and reports EventTenantCreated. It returns the tenant as stored,
// without its Microsoft credentials. Errors wrap ErrInvalid for a rule
// broken (the text says which), ErrConflict when the domain is another
// tenant's (case-insensitively), or are backend failures.
func (a *Auth) CreateTenant(ctx context.Context, s TenantSettings) (store.Tenant, error) {
	if err := s.check(); err != nil {
		return store.Tenant{}, err
	}
	t, err := a.tenantRecord(store.NewID(), s)
	if err != nil {
		return store.Tenant{}, err
	}
	if err := a.store().CreateTenant(ctx, t); err != nil {
		return store.Tenant{}, domainTaken(err, s.Domain)
	}
	a.emit(ctx, Event{Kind: EventTenantCreated, TenantID: t.ID})
	return withoutCredentials(t), nil
}

// UpdateTenant replaces the settings of the tenant whose domain is domain
// (case-insensitively) with s, validated as CreateTenant validates them; s
// may name a new domain. The tenant keeps its ID, users and links. It
// reports EventTenantUpdated and returns the tenant as stored, without its
// Microsoft credentials. A change of the Microsoft directory, application
// or national cloud (or their removal) ends the tenant's Microsoft links
// and bindings as [Auth.SetMicrosoftSettings] does. ErrNotFound for an
// unknown domain; otherwise errors as CreateTenant's.
func (a *Auth) UpdateTenant(ctx context.Context, domain string, s TenantSettings) (store.Tenant, error) {
	old, err := a.findTenant(ctx, domain)
	if err != nil {
		return store.Tenant{}, err
	}
	if s.MS365 != nil {
		m := *s.MS365
		if err := a.keepCredentials(old, &m); err != nil {
			return store.Tenant{}, err
		}
		s.MS365 = &m
	}
	if err := s.check(); err != nil {
		return store.Tenant{}, err
	}
	t, err := a.tenantRecord(old.ID, s)
	if err != nil {
		return store.Tenant{}, err
	}
	if err := a.store().UpdateTenant(ctx, t); err != nil {
		return store.Tenant{}, domainTaken(err, s.Domain)
	}
	if a.credentialReplaced(old, s.MS365) {
		if err := a.forgetCertificate(ctx, t.ID); err != nil {
			return store.Tenant{}, err
		}
	}
	if directoryChanged(old.MS365, t.MS365) {
		if _, err := a.endDirectory(ctx, t.ID, origin{}); err != nil {
			return store.Tenant{}, err
		}
	}
	a.emit(ctx, Event{Kind: EventTenantUpdated, TenantID: t.ID})
	return withoutCredentials(t), nil
}

// keepCredentials fills in the credentials next leaves empty from the
// tenant's stored ones, opened, as TenantSettings.MS365 says.
func (a *Auth) keepCredentials(old store.Tenant, next *store.MS365) error {
	prev := old.MS365
	if prev == nil {
		return nil
	}
	var err error
	if next.ClientSecret == "" && !next.UsesCertificate() && next.ApplicationID == prev.ApplicationID {
		if next.ClientSecret, err = a.openCredential(old.ID, prev.ClientSecret); err != nil {
			return err
		}
	}
	if next.ClientPrivateKey == "" && next.ClientCertificate != "" && next.ClientCertificate == prev.ClientCertificate {
		next.ClientPrivateKey, err = a.openCredential(old.ID, prev.ClientPrivateKey)
	}
	return err
}

// domainTaken words a store's ErrConflict for a domain.
func domainTaken(err error, domain string) error {
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("%w: the domain %q is another tenant's", store.ErrConflict, domain)
	}
	return err
}

// findTenant returns the tenant of domain as stored; ErrNotFound when
// there is none, ErrInvalid for a malformed domain.
func (a *Auth) findTenant(ctx context.Context, domain string) (store.Tenant, error) {
	if err := apiErr(checkDomain(domain, true)); err != nil {
		return store.Tenant{}, err
	}
	t, err := a.store().TenantByDomain(ctx, domain)
	if errors.Is(err, store.ErrNotFound) {
		return store.Tenant{}, fmt.Errorf("%w: no tenant has the domain %q", store.ErrNotFound, domain)
	}
	return t, err
}

// Tenant returns the tenant whose domain is domain (case-insensitively),
// without its Microsoft credentials; ErrNotFound when there is none,
// ErrInvalid for a malformed domain.
func (a *Auth) Tenant(ctx context.Context, domain string) (store.Tenant, error) {
	t, err := a.findTenant(ctx, domain)
	if err != nil {
		return store.Tenant{}, err
	}
	return withoutCredentials(t), nil
}

// Tenants returns a page of the tenants, without their Microsoft
// credentials, ordered by domain (folded to lower case ASCII and compared
// byte by byte), as [Auth.Users] pages users: at most limit of them (0
// means 100; at most 1000) whose domain sorts after after ("" for the
// first page), and next, the after of the following page, or "" when this
// page is the last. It needs a Store that implements
// store.DirectoryLister (errors.ErrUnsupported otherwise).
func (a *Auth) Tenants(ctx context.Context, after string, limit int) (page []store.Tenant, next string, err error) {
	l, err := a.lister()
	if err != nil {
		return nil, "", err
	}
	return pageOf(limit, func(n int) ([]store.Tenant, error) { return l.Tenants(ctx, after, n) },
		func(t store.Tenant) (store.Tenant, string) { return withoutCredentials(t), t.Domain })
}
