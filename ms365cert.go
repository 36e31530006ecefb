// This file is the tenant's certificate for its Microsoft application
// ("More of PortSIP v22"): POST /ms365/certificate makes a key pair and a
// self-signed certificate for the admin to upload to Entra, GET answers
// it, and the Go API does the same. The Store keeps the new certificate as
// the tenant's current credential beside the one known to work, which
// stands in while Entra does not yet know the certificate (see
// tokenCredentials) for at most Limits.CertificateOverlap.

package pbxauth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// Events of the tenant's Microsoft certificate.
const (
	// EventMicrosoftCertificateGenerated: POST /ms365/certificate or
	// [Auth.GenerateMicrosoftCertificate] made a new key pair and
	// certificate for the tenant's Microsoft application; it is now the
	// credential tried first. UserID is the acting principal ("" for the
	// Go API), TenantID.
	EventMicrosoftCertificateGenerated EventKind = "microsoft_certificate_generated"
	// EventMicrosoftCertificateUnconfirmed: Limits.CertificateOverlap
	// passed since the tenant's certificate was generated and no token
	// call has accepted it (it was not uploaded to Entra): the credential
	// that was known to work no longer stands in for it, so Microsoft
	// sign-ins of the tenant fail until it is uploaded. Logged at ERROR.
	// TenantID, Reason.
	EventMicrosoftCertificateUnconfirmed EventKind = "microsoft_certificate_unconfirmed"
)

// The generated certificate: Entra accepts RSA keys of 2048 bits or more.
const (
	certificateKeyBits = 3072
	certificateYears   = 2
	// certificateBackdate keeps a clock a little behind ours from finding
	// the certificate not yet valid.
	certificateBackdate = 5 * time.Minute
)

// errNoCertificates: the Store keeps no certificates, or there are no
// Config.EncryptionKeys to seal the private key with.
var errNoCertificates = fmt.Errorf("%w: generating a Microsoft certificate needs Config.EncryptionKeys and a Store that keeps certificates", store.ErrNotFound)

// errCertificateRace answers the loser of concurrent generations.
var errCertificateRace = &apiError{status: http.StatusConflict, code: CodeConflict,
	message: "another certificate was generated meanwhile; download it, or generate again"}

// credentialStore is the Store's MS365CredentialStore, or nil.
func (a *Auth) credentialStore() store.MS365CredentialStore {
	cs, _ := a.cfg.Store.(store.MS365CredentialStore) // not a.store(): its timing wrapper has no optional capability
	return cs
}

// newCertificate makes an RSA key and a self-signed certificate whose
// subject names the tenant's domain, valid for certificateYears from now,
// both PEM (the key PKCS #8).
func newCertificate(domain string, now time.Time) (certPEM, keyPEM string, err error) {
	key, err := rsa.GenerateKey(rand.Reader, certificateKeyBits)
	if err != nil {
		return "", "", err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return "", "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: domain},
		NotBefore:             now.Add(-certificateBackdate),
		NotAfter:              now.AddDate(certificateYears, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", err
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk})), nil
}

// settingsCredential is the credential of the tenant's MS365 settings, as
// stored (sealed with keys).
func settingsCredential(m *store.MS365) store.MS365Credential {
	if m == nil {
		return store.MS365Credential{}
	}
	if m.UsesCertificate() {
		return store.MS365Credential{ClientCertificate: m.ClientCertificate, ClientPrivateKey: m.ClientPrivateKey}
	}
	return store.MS365Credential{ClientSecret: m.ClientSecret}
}

// withCredential is a copy of m that authenticates with c.
func withCredential(m *store.MS365, c store.MS365Credential) *store.MS365 {
	n := *m
	n.ClientSecret, n.ClientCertificate, n.ClientPrivateKey = c.ClientSecret, c.ClientCertificate, c.ClientPrivateKey
	return &n
}

// generateCertificate makes and stores a new current certificate of t and
// returns it (PEM). The first one keeps the settings' credential as the
// one known to work. ErrConflict when another generation stored first:
// nothing changed.
func (a *Auth) generateCertificate(ctx context.Context, t store.Tenant, actor string) (string, error) {
	cs := a.credentialStore()
	if cs == nil || a.apps == nil {
		return "", errNoCertificates
	}
	cur, err := cs.MS365Credentials(ctx, t.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		m, err := a.sealMS365(t.ID, t.MS365) // an earlier version may have kept it plain
		if err != nil {
			return "", err
		}
		cur = store.MS365Credentials{TenantID: t.ID, KnownGood: settingsCredential(m)}
	case err != nil:
		return "", err
	}
	now := a.now()
	certPEM, keyPEM, err := newCertificate(t.Domain, now)
	if err != nil {
		return "", err
	}
	if keyPEM, err = a.sealCredential(t.ID, keyPEM); err != nil {
		return "", err
	}
	cur.Current = store.MS365Credential{ClientCertificate: certPEM, ClientPrivateKey: keyPEM}
	cur.CurrentSince = now
	if err := cs.ReplaceMS365Current(ctx, cur); err != nil {
		return "", err
	}
	a.log.InfoContext(ctx, "pbxauth: a new Microsoft certificate was generated; it is used once uploaded to the app registration",
		"tenant", t.ID, "overlap", a.cfg.Limits.CertificateOverlap)
	a.emit(ctx, Event{Kind: EventMicrosoftCertificateGenerated, UserID: actor, TenantID: t.ID})
	return certPEM, nil
}

// tenantCredentials returns the tenant's generated credentials (ok false
// when it has none), after ending the overlap of a current one that went
// unconfirmed for Limits.CertificateOverlap.
func (a *Auth) tenantCredentials(ctx context.Context, tenantID string) (c store.MS365Credentials, ok bool, err error) {
	cs := a.credentialStore()
	if cs == nil {
		return c, false, nil
	}
	for range 2 { // read again after a drop lost to another change
		c, err = cs.MS365Credentials(ctx, tenantID)
		if errors.Is(err, store.ErrNotFound) {
			return c, false, nil
		}
		if err != nil || c.Confirmed || c.KnownGood.IsZero() || a.now().Before(c.CurrentSince.Add(a.cfg.Limits.CertificateOverlap)) {
			return c, err == nil, err
		}
		switch err := cs.DropMS365KnownGood(ctx, tenantID, c.Version); {
		case err == nil:
			reason := fmt.Sprintf("no token call accepted the certificate generated at %s within %s: the credential known to work was dropped; upload the certificate to the app registration",
				c.CurrentSince.UTC().Format(time.RFC3339), a.cfg.Limits.CertificateOverlap)
			a.log.ErrorContext(ctx, "pbxauth: Microsoft certificate unconfirmed", "tenant", tenantID, "reason", reason)
			a.emit(ctx, Event{Kind: EventMicrosoftCertificateUnconfirmed, TenantID: tenantID, Reason: reason})
			c.KnownGood = store.MS365Credential{}
			return c, true, nil
		case !errors.Is(err, store.ErrStale):
			return c, true, err
		}
	}
	// Changed twice meanwhile: what was read last, without the stand-in
	// whose time is up.
	c.KnownGood = store.MS365Credential{}
	return c, true, nil
}

// tokenCredential is one credential a token call may try.
type tokenCredential struct {
	ms *store.MS365 // the tenant's settings with this credential, opened
	// confirm is the version to confirm when this credential passes, or 0.
	confirm int64
}

// tokenCredentials returns what the token call of t's sign-in tries, in
// order: the tenant's settings' credential when it has no generated one;
// else its current certificate and, while that is unconfirmed, the one
// known to work, which is tried when the token endpoint refuses the
// current one (invalid_client).
func (a *Auth) tokenCredentials(ctx context.Context, t store.Tenant) ([]tokenCredential, error) {
	c, ok, err := a.tenantCredentials(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	creds := []store.MS365Credential{settingsCredential(t.MS365)}
	var confirm int64
	if ok {
		creds = []store.MS365Credential{c.Current}
		if !c.Confirmed {
			confirm = c.Version
			if !c.KnownGood.IsZero() {
				creds = append(creds, c.KnownGood)
			}
		}
	}
	tries := make([]tokenCredential, len(creds))
	for i, cred := range creds {
		ms, err := a.openMS365(store.Tenant{ID: t.ID, MS365: withCredential(t.MS365, cred)})
		if err != nil {
			return nil, err
		}
		tries[i].ms = ms
	}
	tries[0].confirm = confirm
	return tries, nil
}

// confirmCredential makes the current credential that a token call passed
// the one known to work. A newer certificate stored meanwhile stays
// unconfirmed; a failure is logged, never the sign-in's.
func (a *Auth) confirmCredential(ctx context.Context, tenantID string, version int64) {
	cs := a.credentialStore()
	switch err := cs.ConfirmMS365Current(ctx, tenantID, version); {
	case err == nil:
		a.log.InfoContext(ctx, "pbxauth: the tenant's Microsoft certificate was accepted by the token endpoint; it is now the credential known to work", "tenant", tenantID)
	case !errors.Is(err, store.ErrStale):
		a.log.WarnContext(ctx, "pbxauth: could not record that the tenant's Microsoft certificate works", "tenant", tenantID, "err", err)
	}
}

// currentCertificate returns the credentials whose Current certificate
// (PEM) the tenant uses first: its generated one, else its settings' one
// (as confirmed); Current.ClientCertificate is "" when it has none.
func (a *Auth) currentCertificate(ctx context.Context, t store.Tenant) (store.MS365Credentials, error) {
	c, ok, err := a.tenantCredentials(ctx, t.ID)
	if err != nil || ok {
		return c, err
	}
	if t.MS365 != nil && t.MS365.ClientCertificate != "" {
		return store.MS365Credentials{TenantID: t.ID, Current: store.MS365Credential{ClientCertificate: t.MS365.ClientCertificate}, Confirmed: true}, nil
	}
	return c, nil
}

// credentialReplaced reports whether settings next (credentials as given)
// carry another credential than old's stored one, or none.
func (a *Auth) credentialReplaced(old store.Tenant, next *store.MS365) bool {
	prev, err := a.openMS365(old)
	if err != nil || prev == nil || next == nil {
		return err != nil || prev != next
	}
	return settingsCredential(prev) != settingsCredential(next)
}

// forgetCertificate forgets the tenant's generated credentials: the host
// set the credential in the tenant's settings.
func (a *Auth) forgetCertificate(ctx context.Context, tenantID string) error {
	cs := a.credentialStore()
	if cs == nil {
		return nil
	}
	if _, err := cs.MS365Credentials(ctx, tenantID); errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err := cs.ForgetMS365Credentials(ctx, tenantID); err != nil {
		return err
	}
	a.log.InfoContext(ctx, "pbxauth: the tenant's Microsoft credential was set in its settings; its generated certificate is no longer used", "tenant", tenantID)
	return nil
}

// writeCertificate answers a certificate (PEM) as PortSIP does: a download
// named after the tenant's domain.
func writeCertificate(w http.ResponseWriter, domain, certPEM string) {
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", `attachment; filename="`+strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(domain)+`.cer"`)
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(certPEM))
}

// generateMicrosoft365Certificate serves POST /ms365/certificate.
func (a *Auth) generateMicrosoft365Certificate(w http.ResponseWriter, r *http.Request) *apiError {
	ctx := r.Context()
	p, t, e := a.changingTenant(w, r)
	if e != nil {
		return e
	}
	certPEM, err := a.generateCertificate(ctx, t, p.UserID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errNotFound
	case errors.Is(err, store.ErrConflict):
		return errCertificateRace
	case err != nil:
		return a.internal(ctx, "generate Microsoft certificate", err)
	}
	writeCertificate(w, t.Domain, certPEM)
	return nil
}

// downloadMicrosoft365Certificate serves GET /ms365/certificate.
func (a *Auth) downloadMicrosoft365Certificate(w http.ResponseWriter, r *http.Request) *apiError {
	ctx := r.Context()
	_, t, e := a.adminTenant(r)
	if e != nil {
		return e
	}
	c, err := a.currentCertificate(ctx, t)
	switch {
	case err != nil:
		return a.internal(ctx, "read Microsoft certificate", err)
	case c.Current.ClientCertificate == "":
		return errNotFound
	}
	writeCertificate(w, t.Domain, c.Current.ClientCertificate)
	return nil
}

// MicrosoftCertificate is the certificate a tenant's Microsoft
// application proves itself with, as [Auth.MicrosoftCertificate] returns
// it.
type MicrosoftCertificate struct {
	// PEM is the certificate, as GET /ms365/certificate answers it.
	PEM string
	// Generated is when it was generated; zero for a certificate set in
	// the tenant's settings.
	Generated time.Time
	// Confirmed: a token call accepted it (or it was set in the settings).
	Confirmed bool
	// Fallback: while it is unconfirmed, the credential known to work
	// still stands in for it (until Limits.CertificateOverlap after
	// Generated).
	Fallback bool
}

// GenerateMicrosoftCertificate makes a new RSA 3072 key pair and a
// self-signed certificate (two years) for the Microsoft application of the
// tenant of domain, as POST /ms365/certificate does, keeps the private key
// sealed, reports EventMicrosoftCertificateGenerated, and returns the
// certificate (PEM) to upload to the app registration. Until a token call
// accepts it, the credential known to work stands in for it for
// Limits.CertificateOverlap. ErrNotFound for an unknown domain, without
// Config.EncryptionKeys, or with a Store that keeps no certificates;
// ErrConflict when another certificate was generated meanwhile (nothing
// changed); ErrInvalid for a malformed domain.
func (a *Auth) GenerateMicrosoftCertificate(ctx context.Context, domain string) (string, error) {
	t, err := a.findTenant(ctx, domain)
	if err != nil {
		return "", err
	}
	return a.generateCertificate(ctx, t, "")
}

// MicrosoftCertificate returns the certificate of the tenant of domain, as
// GET /ms365/certificate answers it, with its state. ErrNotFound for an
// unknown domain or a tenant without a certificate; ErrInvalid for a
// malformed domain.
func (a *Auth) MicrosoftCertificate(ctx context.Context, domain string) (MicrosoftCertificate, error) {
	t, err := a.findTenant(ctx, domain)
	if err != nil {
		return MicrosoftCertificate{}, err
	}
	c, err := a.currentCertificate(ctx, t)
	switch {
	case err != nil:
		return MicrosoftCertificate{}, err
	case c.Current.ClientCertificate == "":
		return MicrosoftCertificate{}, fmt.Errorf("%w: the tenant %q has no Microsoft certificate", store.ErrNotFound, domain)
	}
	return MicrosoftCertificate{PEM: c.Current.ClientCertificate, Generated: c.CurrentSince, Confirmed: c.Confirmed,
		Fallback: !c.Confirmed && !c.KnownGood.IsZero()}, nil
}
