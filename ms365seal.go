// This file keeps a tenant's Microsoft client secret and private key sealed
// at rest: with Config.EncryptionKeys they are stored as store.SealedPrefix
// and an AES-256-GCM box bound to the tenant, opened only to call the token
// endpoint, and never handed back to a host.

package pbxauth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/pbxauth/pbxauth/store"
)

// ms365AD binds a sealed Microsoft credential to its tenant.
func ms365AD(tenantID string) []byte { return []byte("pbxauth/ms365\x00" + tenantID) }

// errNoKeysForMS365: a tenant's credential is sealed but no key is configured.
var errNoKeysForMS365 = errors.New("pbxauth: the tenant's Microsoft credential is sealed, and there is no Config.EncryptionKeys to open it")

// sealed reports whether a stored credential is sealed.
func sealed(v string) bool { return strings.HasPrefix(v, store.SealedPrefix) }

// sealCredential seals a credential of the tenant; "", a sealed value, or
// any value without keys is returned as it is.
func (a *Auth) sealCredential(tenantID, v string) (string, error) {
	if v == "" || sealed(v) || a.apps == nil {
		return v, nil
	}
	box, err := a.apps.box.Seal([]byte(v), ms365AD(tenantID))
	if err != nil {
		return "", err
	}
	return store.SealedPrefix + base64.RawURLEncoding.EncodeToString(box), nil
}

// openCredential opens a credential of the tenant; a value that is not
// sealed is returned as it is.
func (a *Auth) openCredential(tenantID, v string) (string, error) {
	if !sealed(v) {
		return v, nil
	}
	if a.apps == nil {
		return "", errNoKeysForMS365
	}
	box, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(v, store.SealedPrefix))
	if err != nil {
		return "", fmt.Errorf("pbxauth: a sealed Microsoft credential is malformed: %w", err)
	}
	plain, err := a.apps.box.Open(box, ms365AD(tenantID))
	if err != nil {
		return "", fmt.Errorf("pbxauth: the tenant's Microsoft credential does not open (is a key missing from Config.EncryptionKeys?): %w", err)
	}
	return string(plain), nil
}

// mapCredentials returns a copy of m with its secret and private key
// passed through f.
func mapCredentials(m *store.MS365, f func(string) (string, error)) (*store.MS365, error) {
	if m == nil {
		return nil, nil
	}
	c := *m
	var err error
	if c.ClientSecret, err = f(c.ClientSecret); err != nil {
		return nil, err
	}
	if c.ClientPrivateKey, err = f(c.ClientPrivateKey); err != nil {
		return nil, err
	}
	return &c, nil
}

// openMS365 returns the tenant's Microsoft settings with the credentials
// open, for a call to the token endpoint.
func (a *Auth) openMS365(t store.Tenant) (*store.MS365, error) {
	return mapCredentials(t.MS365, func(v string) (string, error) { return a.openCredential(t.ID, v) })
}

// sealMS365 returns m with its credentials sealed for the tenant (as they
// are, without keys).
func (a *Auth) sealMS365(tenantID string, m *store.MS365) (*store.MS365, error) {
	return mapCredentials(m, func(v string) (string, error) { return a.sealCredential(tenantID, v) })
}

// withoutCredentials is t as a host sees it: no client secret, no private
// key (the certificate, which is public, stays).
func withoutCredentials(t store.Tenant) store.Tenant {
	t.MS365, _ = mapCredentials(t.MS365, func(string) (string, error) { return "", nil })
	return t
}

// plainCredentials reports whether m holds a credential that is not sealed.
func plainCredentials(m *store.MS365) bool {
	return m != nil && (m.ClientSecret != "" && !sealed(m.ClientSecret) || m.ClientPrivateKey != "" && !sealed(m.ClientPrivateKey))
}

// SealTenantSecrets seals, with the first of Config.EncryptionKeys, every
// tenant's Microsoft client secret and private key that is still stored as
// given — kept by an earlier version, or written to the Store directly —
// and returns how many tenants it changed; call it at start-up, before
// tenants are changed (it writes each tenant back whole). Without keys it
// changes nothing and, when a tenant holds a plain credential, logs a
// warning saying so. It needs a Store that implements
// store.DirectoryLister (errors.ErrUnsupported otherwise).
func (a *Auth) SealTenantSecrets(ctx context.Context) (int, error) {
	l, err := a.lister()
	if err != nil {
		return 0, err
	}
	changed, plain := 0, 0
	for after := ""; ; {
		page, err := l.Tenants(ctx, after, maxPage)
		if err != nil || len(page) == 0 {
			if plain > 0 {
				a.log.WarnContext(ctx, "pbxauth: without Config.EncryptionKeys, tenants' Microsoft client secrets and private keys are kept in the Store as given", "tenants", plain)
			}
			return changed, err
		}
		after = page[len(page)-1].Domain
		for _, t := range page {
			if !plainCredentials(t.MS365) {
				continue
			}
			if a.apps == nil {
				plain++
				continue
			}
			if t.MS365, err = a.sealMS365(t.ID, t.MS365); err != nil {
				return changed, err
			}
			if err := a.store().UpdateTenant(ctx, t); err != nil {
				return changed, err
			}
			changed++
		}
	}
}
