// This file holds the optional Store capability of a tenant's generated
// Microsoft certificates: the credential the tenant's application is asked
// to use (current) and the last one a token call accepted (known good),
// with a version that makes generating a new certificate a
// compare-and-swap.

package store

import (
	"context"
	"time"
)

// MS365Credential is one way a tenant's application proves itself at the
// token endpoint: a client secret, or a certificate and its private key
// (PEM). The secret and the key are kept as MS365's are: sealed
// (SealedPrefix) when pbxauth has keys.
type MS365Credential struct {
	ClientSecret      string
	ClientCertificate string
	ClientPrivateKey  string
}

// IsZero reports whether c holds no credential.
func (c MS365Credential) IsZero() bool { return c == MS365Credential{} }

// MS365Credentials are a tenant's certificate generated for its Microsoft
// application (POST /ms365/certificate) and the credential known to work.
// While a tenant has them, they replace the secret or certificate of its
// MS365 settings at the token endpoint.
type MS365Credentials struct {
	TenantID string
	// Current is the credential the tenant uses first: the last
	// certificate generated.
	Current MS365Credential
	// CurrentSince is when Current was stored.
	CurrentSince time.Time
	// Confirmed: a token call passed with Current; KnownGood then equals
	// Current.
	Confirmed bool
	// KnownGood is the last credential a token call passed — at first the
	// tenant's secret or earlier certificate — used when the token
	// endpoint refuses Current; zero when there is none (never, or dropped
	// after the overlap).
	KnownGood MS365Credential
	// Version is the Store's count of the certificates stored: 0 when
	// none is. Confirming Current or dropping KnownGood leaves it as it
	// is (neither touches Current).
	Version int64
}

// Validate reports whether a Store may keep c: a tenant ID, a Current
// credential and a version not negative.
func (c MS365Credentials) Validate() error {
	switch {
	case c.TenantID == "":
		return invalidf("Microsoft credentials without a tenant ID")
	case c.Current.IsZero():
		return invalidf("Microsoft credentials of tenant %q without a current credential", c.TenantID)
	case c.Version < 0:
		return invalidf("Microsoft credentials of tenant %q: negative version", c.TenantID)
	}
	return nil
}

// MS365CredentialStore is implemented by stores that keep tenants'
// generated Microsoft certificates; every shipped store does. Without it,
// generating one answers 404. All methods must be safe for concurrent use,
// also by several processes sharing one backend.
type MS365CredentialStore interface {
	// MS365Credentials returns the tenant's credentials, or ErrNotFound
	// when no certificate was ever stored for it.
	MS365Credentials(ctx context.Context, tenantID string) (MS365Credentials, error)
	// ReplaceMS365Current stores c.Current and c.CurrentSince as the
	// tenant's current credential, unconfirmed, with Version c.Version+1 —
	// only while the stored Version equals c.Version (0: none is stored),
	// compared and written in one atomic step, also across processes:
	// ErrConflict otherwise, with nothing stored, so that of concurrent
	// replacements that read one version exactly one succeeds. KnownGood
	// is stored from c only with the first certificate (c.Version 0);
	// later it is left as stored. ErrInvalid for credentials Validate
	// refuses, ErrNotFound when no tenant has that ID; nothing stored.
	ReplaceMS365Current(ctx context.Context, c MS365Credentials) error
	// ConfirmMS365Current makes the tenant's Current its KnownGood and
	// marks it Confirmed, only while the stored Version equals version
	// (the Current a token call passed is still the one stored): ErrStale
	// otherwise, or when none is stored, with nothing changed.
	ConfirmMS365Current(ctx context.Context, tenantID string, version int64) error
	// DropMS365KnownGood empties the tenant's KnownGood, only while the
	// stored Version equals version, Current is not Confirmed and
	// KnownGood is not empty already: ErrStale otherwise, or when none is
	// stored, with nothing changed — so of concurrent drops exactly one
	// succeeds, and reports it.
	DropMS365KnownGood(ctx context.Context, tenantID string, version int64) error
	// ForgetMS365Credentials deletes the tenant's credentials (the host
	// set another credential in the tenant's settings); none stored is
	// not an error.
	ForgetMS365Credentials(ctx context.Context, tenantID string) error
}
