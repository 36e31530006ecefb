package clientassert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// certificate makes a self-signed certificate for key, in PEM, and its DER.
func certificate(t *testing.T, key *rsa.PrivateKey) (string, []byte) {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pbx"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), der
}

func pkcs8(t *testing.T, key any) string {
	t.Helper()
	b, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: b}))
}

func TestAssertion(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	certPEM, der := certificate(t, key)
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	for name, keyPEM := range map[string]string{"PKCS8": pkcs8(t, key), "PKCS1": pkcs1} {
		t.Run(name, func(t *testing.T) {
			s, err := New("app-id", certPEM, keyPEM)
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now().Truncate(time.Second)
			raw, err := s.Assertion("https://idp.example/token", now)
			if err != nil {
				t.Fatal(err)
			}
			claims := jwt.MapClaims{}
			tok, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return &key.PublicKey, nil },
				jwt.WithValidMethods([]string{"PS256"}), jwt.WithAudience("https://idp.example/token"),
				jwt.WithIssuer("app-id"), jwt.WithSubject("app-id"), jwt.WithTimeFunc(func() time.Time { return now }))
			if err != nil {
				t.Fatalf("assertion does not verify: %v", err)
			}
			s1, s256 := sha1.Sum(der), sha256.Sum256(der)
			if tok.Header["x5t"] != base64.RawURLEncoding.EncodeToString(s1[:]) ||
				tok.Header["x5t#S256"] != base64.RawURLEncoding.EncodeToString(s256[:]) {
				t.Errorf("thumbprint headers = %v", tok.Header)
			}
			if _, ok := tok.Header["kid"]; ok {
				t.Errorf("unexpected kid header: %v", tok.Header)
			}
			exp, _ := claims.GetExpirationTime()
			if d := exp.Sub(now); d <= 0 || d > 5*time.Minute {
				t.Errorf("assertion lives %v, want at most 5 minutes", d)
			}
			again, _ := s.Assertion("https://idp.example/token", now)
			c2 := jwt.MapClaims{}
			if _, _, err := jwt.NewParser().ParseUnverified(again, c2); err != nil {
				t.Fatal(err)
			}
			if claims["jti"] == "" || claims["jti"] == c2["jti"] {
				t.Errorf("jti %v then %v: want fresh ones", claims["jti"], c2["jti"])
			}
		})
	}
}

func TestNewRefuses(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	certPEM, _ := certificate(t, key)
	for name, tc := range map[string][2]string{
		"key of another certificate": {certPEM, pkcs8(t, other)},
		"EC key":                     {certPEM, pkcs8(t, ec)},
		"no certificate":             {"", pkcs8(t, key)},
		"key as certificate":         {pkcs8(t, key), pkcs8(t, key)},
		"no key":                     {certPEM, ""},
		"garbage key":                {certPEM, strings.Replace(pkcs8(t, key), "M", "x", 3)},
	} {
		if _, err := New("app", tc[0], tc[1]); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}
