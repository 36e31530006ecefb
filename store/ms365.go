// This file holds a tenant's Microsoft Entra ID settings and the checks a
// host runs before storing them.

package store

import (
	"fmt"
	"strings"

	"github.com/pbxauth/pbxauth/internal/clientassert"
)

// SealedPrefix begins a tenant's MS365.ClientSecret or ClientPrivateKey
// that pbxauth sealed at rest (with Config.EncryptionKeys): the rest is the
// base64url of an AES-256-GCM box bound to the tenant. A store keeps such a
// value as it keeps any other string.
const SealedPrefix = "pbxauth-sealed:"

// MS365 holds a tenant's Microsoft Entra ID application settings.
type MS365 struct {
	ApplicationID string // the client id
	DirectoryID   string // the Entra tenant id
	// ClientSecret is the client secret, or, sealed, SealedPrefix and its box.
	ClientSecret string
	// ClientCertificate and ClientPrivateKey (PEM), when both are set,
	// replace ClientSecret: the token endpoint is called with a client
	// assertion signed by the key (private_key_jwt), as PortSIP does. The
	// key may be sealed as ClientSecret is.
	ClientCertificate string
	ClientPrivateKey  string
	NationalCloud     string // "GLOBAL" (default) or "CHINA"
	Issuer            string // overrides the issuer derived from DirectoryID and NationalCloud
	// MatchPreferredUsername lets an account with no link yet match a user
	// by its preferred_username (the UPN) when it is a member of the
	// directory (acct 0). Off by default: Microsoft documents the claim as
	// mutable, so only verified emails match.
	MatchPreferredUsername bool
}

// Endpoints returns the URL whose /.well-known/openid-configuration is fetched
// and the issuer ID tokens must carry. They differ in one case: Microsoft's
// China cloud is discovered at login.chinacloudapi.cn but names itself (and
// signs its tokens as) login.partner.microsoftonline.cn.
func (m *MS365) Endpoints() (discovery, issuer string, ok bool) {
	if m.Issuer != "" {
		return m.Issuer, m.Issuer, true
	}
	switch strings.ToUpper(m.NationalCloud) {
	case "", "GLOBAL":
		u := "https://login.microsoftonline.com/" + m.DirectoryID + "/v2.0"
		return u, u, true
	case "CHINA":
		return "https://login.chinacloudapi.cn/" + m.DirectoryID + "/v2.0",
			"https://login.partner.microsoftonline.cn/" + m.DirectoryID + "/v2.0", true
	}
	return "", "", false
}

// Validate checks settings a host is about to store: a known national
// cloud, and a certificate credential whose certificate and private key
// (PEM, RSA) belong together. It does not reach the IdP.
func (m *MS365) Validate() error {
	if _, _, ok := m.Endpoints(); !ok {
		return fmt.Errorf("pbxauth: national_cloud %q is neither GLOBAL nor CHINA", m.NationalCloud)
	}
	if m.UsesCertificate() {
		if _, err := clientassert.New(m.ApplicationID, m.ClientCertificate, m.ClientPrivateKey); err != nil {
			return fmt.Errorf("pbxauth: Microsoft client certificate: %w", err)
		}
	}
	return nil
}

// UsesCertificate reports whether the tenant authenticates to the token
// endpoint with a certificate rather than a secret.
func (m *MS365) UsesCertificate() bool {
	return m.ClientCertificate != "" || m.ClientPrivateKey != ""
}
