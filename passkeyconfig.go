// This file holds Config.Passkeys: the relying party that passkeys
// (WebAuthn) are made for — its RP ID, the origins whose ceremonies count,
// native apps' opaque origins and related origins — checked by New, and
// the /.well-known/webauthn document a host serves at the RP ID.

package pbxauth

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/pbxauth/pbxauth/store"
)

// PasskeyConfig configures passkeys. The zero value serves them for the
// host of Config.PublicURL. Passkeys need Config.EncryptionKeys (their
// ceremony state travels sealed) and a Store that implements
// [store.PasskeyStore]; without either, every passkey route answers 404
// and New logs why.
type PasskeyConfig struct {
	// RPID is the relying party ID passkeys are bound to: a domain, never
	// taken from request headers. Default: the host name of PublicURL.
	// An RP ID that is an IP address makes New fail when set here; when it
	// comes from PublicURL, passkeys are off and New logs it.
	RPID string
	// RPDisplayName names the PBX in the browser's dialogs. Default the
	// RP ID.
	RPDisplayName string
	// Origins are the origins whose ceremonies are accepted, compared
	// exactly ("https://pbx.example.com:8887"). Default: the origin of
	// PublicURL. Native apps' opaque origins ("android:apk-key-hash:...")
	// may be listed too. Listing Origins replaces the default, so list
	// PublicURL's origin as well when pages are served there.
	Origins []string
	// RelatedOrigins are further web origins, on other registrable
	// domains, whose pages may use this RP ID (WebAuthn L3 §5.11). They
	// are accepted as Origins are and listed, with the web Origins, by
	// [Auth.WebAuthnRelatedOrigins], which the host serves at
	// https://{RPID}/.well-known/webauthn. Browsers read at most 5
	// registrable-domain labels: New fails beyond that.
	RelatedOrigins []string
}

// explicit reports whether the host configured passkeys at all.
func (c PasskeyConfig) explicit() bool {
	return c.RPID != "" || c.RPDisplayName != "" || len(c.Origins) > 0 || len(c.RelatedOrigins) > 0
}

// relatedDoc is the well-known document of related origins, or nil.
type relatedDoc = *protocol.RelatedOrigins

// passkeys is what serves passkeys: go-webauthn's relying party, the
// well-known document and the store capability; nil when they are off.
type passkeys struct {
	rp      *webauthn.WebAuthn
	related *protocol.RelatedOrigins // nil without RelatedOrigins
	store   store.PasskeyStore
}

// initPasskeys checks Config.Passkeys and readies passkeys, or logs why
// they are off. It returns an error only for a configuration New must
// refuse.
func (a *Auth) initPasskeys() error {
	c := a.cfg.Passkeys
	rpID, web, opaque, err := passkeyOrigins(c, a.cfg.PublicURL)
	if err != nil {
		return err
	}
	if rpID == "" {
		if c.explicit() {
			return errors.New("pbxauth: Config.Passkeys.RPID is required when PublicURL is not set")
		}
		a.log.Warn("pbxauth: passkeys are off: no Config.PublicURL to take their RP ID from, so every passkey route answers 404")
		return nil
	}
	if _, err := netip.ParseAddr(strings.Trim(rpID, "[]")); err == nil {
		if c.explicit() {
			return fmt.Errorf("pbxauth: Config.Passkeys.RPID %q is an IP address: passkeys need a domain", rpID)
		}
		a.log.Warn("pbxauth: passkeys are off: the host of Config.PublicURL is an IP address, which cannot be a WebAuthn RP ID; use a name such as localhost or set Config.Passkeys.RPID", "rp_id", rpID)
		return nil
	}
	related, err := relatedOrigins(c, web)
	if err != nil {
		return err
	}
	name := c.RPDisplayName
	if name == "" {
		name = rpID
	}
	rp, err := webauthn.New(&webauthn.Config{
		RPID: rpID, RPDisplayName: name, RPOrigins: web, RPOpaqueOrigins: opaque,
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementRequired, RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification: protocol.VerificationRequired,
		},
	})
	if err != nil {
		return fmt.Errorf("pbxauth: Config.Passkeys: %w", err)
	}
	ps, ok := a.cfg.Store.(store.PasskeyStore) // not a.store(): its timing wrapper has no optional capability
	switch {
	case !ok:
		a.log.Warn("pbxauth: passkeys are off: the Store keeps no passkeys, so every passkey route answers 404")
	case a.states == nil:
		a.log.Warn("pbxauth: passkeys are off: without Config.EncryptionKeys their ceremony state cannot travel sealed, so every passkey route answers 404")
	default:
		a.passkeys = &passkeys{rp: rp, related: related, store: ps}
		a.passkeyStarts = newStartCounter(a.cfg.Limits.PasskeyStarts, a.cfg.Limits.FlowStartWindow)
	}
	// The well-known document is served whenever it was configured: it
	// only names origins.
	a.related = related
	return nil
}

// passkeyOrigins returns the RP ID and the accepted origins, web and
// opaque, of c with PublicURL's defaults.
func passkeyOrigins(c PasskeyConfig, publicURL string) (rpID string, web, opaque []string, err error) {
	var pub *url.URL
	if publicURL != "" {
		pub, _ = url.Parse(publicURL) // checked by New
	}
	rpID = c.RPID
	if rpID == "" && pub != nil {
		rpID = pub.Hostname()
	}
	origins := c.Origins
	if len(origins) == 0 && pub != nil {
		origins = []string{pub.Scheme + "://" + pub.Host}
	}
	for _, o := range append(append([]string(nil), origins...), c.RelatedOrigins...) {
		if protocol.IsOpaqueOrigin(o) {
			opaque = append(opaque, o)
			continue
		}
		u, perr := url.Parse(o)
		if perr != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			return "", nil, nil, fmt.Errorf("pbxauth: Config.Passkeys: origin %q must be scheme://host[:port] or a native app's opaque origin", o)
		}
		web = append(web, strings.ToLower(u.Scheme)+"://"+strings.ToLower(u.Host))
	}
	return rpID, web, opaque, nil
}

// relatedOrigins builds the well-known document of c, or nil without
// RelatedOrigins; more than 5 registrable-domain labels is an error.
func relatedOrigins(c PasskeyConfig, web []string) (*protocol.RelatedOrigins, error) {
	if len(c.RelatedOrigins) == 0 {
		return nil, nil
	}
	doc, err := protocol.NewRelatedOrigins(web...)
	if err != nil {
		return nil, fmt.Errorf("pbxauth: Config.Passkeys.RelatedOrigins: %w", err)
	}
	return doc, nil
}

// WebAuthnRelatedOrigins serves the related origins document of
// Config.Passkeys (WebAuthn L3 §5.11): the host mounts it at
// https://{RPID}/.well-known/webauthn, which may be another host than the
// API's. Without RelatedOrigins it answers 404.
func (a *Auth) WebAuthnRelatedOrigins() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.related == nil {
			writeError(w, errNotFound)
			return
		}
		a.related.ServeHTTP(w, r)
	})
}
