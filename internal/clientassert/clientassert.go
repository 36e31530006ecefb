// Package clientassert signs the client assertions with which an OAuth
// client proves itself with a certificate instead of a secret
// (private_key_jwt, RFC 7523 §2.2), in the form Microsoft Entra ID requires:
// PS256, the certificate's SHA-1 and SHA-256 thumbprints in the headers x5t
// and x5t#S256, iss and sub the client ID, aud the exact token endpoint, a
// fresh jti and a life of at most five minutes.
package clientassert

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Type is the client_assertion_type of a JWT client assertion.
const Type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// Lifetime is how long an assertion is valid.
const Lifetime = 5 * time.Minute

// Signer makes assertions for one client and certificate. It is safe for
// concurrent use.
type Signer struct {
	clientID string
	key      *rsa.PrivateKey
	x5t      string // SHA-1 thumbprint of the DER certificate, base64url
	x5tS256  string // SHA-256 thumbprint
}

// New parses a PEM certificate and its PEM private key (PKCS #8 or PKCS #1
// RSA) and checks that they belong together.
func New(clientID, certPEM, keyPEM string) (*Signer, error) {
	cb, _ := pem.Decode([]byte(certPEM))
	if cb == nil || cb.Type != "CERTIFICATE" {
		return nil, errors.New("clientassert: client certificate is not a PEM CERTIFICATE")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("clientassert: client certificate: %w", err)
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		return nil, err
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok || !pub.Equal(&key.PublicKey) {
		return nil, errors.New("clientassert: the private key does not belong to the client certificate")
	}
	s1, s256 := sha1.Sum(cert.Raw), sha256.Sum256(cert.Raw)
	enc := base64.RawURLEncoding
	return &Signer{clientID: clientID, key: key, x5t: enc.EncodeToString(s1[:]), x5tS256: enc.EncodeToString(s256[:])}, nil
}

func parseKey(keyPEM string) (*rsa.PrivateKey, error) {
	kb, _ := pem.Decode([]byte(keyPEM))
	if kb == nil {
		return nil, errors.New("clientassert: client private key is not PEM")
	}
	switch kb.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(kb.Bytes)
		if err != nil {
			return nil, fmt.Errorf("clientassert: client private key: %w", err)
		}
		return k, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
		if err != nil {
			return nil, fmt.Errorf("clientassert: client private key: %w", err)
		}
		if rk, ok := k.(*rsa.PrivateKey); ok {
			return rk, nil
		}
		return nil, errors.New("clientassert: client private key must be RSA (Entra ID signs with PS256 or RS256 only)")
	}
	return nil, fmt.Errorf("clientassert: client private key has PEM type %q", kb.Type)
}

// Assertion returns a signed assertion for the token endpoint audience,
// valid from now for Lifetime.
func (s *Signer) Assertion(audience string, now time.Time) (string, error) {
	jti := make([]byte, 16)
	rand.Read(jti)
	tok := jwt.NewWithClaims(jwt.SigningMethodPS256, jwt.MapClaims{
		"iss": s.clientID,
		"sub": s.clientID,
		"aud": audience,
		"jti": base64.RawURLEncoding.EncodeToString(jti),
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(Lifetime).Unix(),
	})
	tok.Header["x5t"] = s.x5t
	tok.Header["x5t#S256"] = s.x5tS256
	return tok.SignedString(s.key)
}
