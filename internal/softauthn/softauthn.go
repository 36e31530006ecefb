// Package softauthn is a software WebAuthn authenticator for tests: it makes
// ES256 passkeys and answers registration and authentication ceremonies in
// the JSON forms browsers send (RegistrationResponseJSON and
// AuthenticationResponseJSON, what PublicKeyCredential.toJSON() gives), with
// every part an attacker could change under the test's control — origin, RP
// ID hash, the UP, UV, BE and BS flags, sign count, user handle, credential
// ID, ceremony type and challenge.
//
// It attests with "none" and verifies nothing: it does what it is told.
package softauthn

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// Flags of authenticator data (WebAuthn L3 §6.1).
const (
	flagUP = 0x01
	flagUV = 0x04
	flagBE = 0x08
	flagBS = 0x10
	flagAT = 0x40
)

// Credential is one passkey the authenticator holds. Its fields may be
// changed between ceremonies; it is not safe for concurrent use.
type Credential struct {
	ID         []byte
	Key        *ecdsa.PrivateKey
	RPID       string
	UserHandle []byte
	AAGUID     [16]byte
	// Count is the sign count the next ceremony reports; Step is added to
	// it before each assertion (1 for a device-bound key, 0 for a synced
	// one that always reports 0).
	Count, Step uint32
	// BackupEligible and BackupState are the BE and BS flags it reports.
	BackupEligible, BackupState bool
}

// New makes a device-bound passkey (BE=0, counting by 1) for rpID with a
// random 32-byte credential ID. userHandle is the user.id of the creation
// options.
func New(rpID string, userHandle []byte) *Credential {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	id := make([]byte, 32)
	rand.Read(id)
	return &Credential{ID: id, Key: key, RPID: rpID, UserHandle: append([]byte(nil), userHandle...), Step: 1}
}

// Synced makes c a synced passkey: BE=1, BS=1, its count always 0.
func (c *Credential) Synced() *Credential {
	c.BackupEligible, c.BackupState, c.Count, c.Step = true, true, 0, 0
	return c
}

// Ceremony is what a client gives the authenticator, and what a test
// changes. The zero value of a field means what an honest client would
// send.
type Ceremony struct {
	// Challenge is the options' challenge, as raw bytes. Required.
	Challenge []byte
	// Origin is the client's origin ("https://pbx.example.com"). Required.
	Origin string
	// RPID names the relying party whose hash the authenticator data
	// carries; default the credential's RPID. RPIDHash, when set, is used
	// as given instead.
	RPID     string
	RPIDHash []byte
	// Type overrides the client data's type ("webauthn.create",
	// "webauthn.get").
	Type string
	// NoUP and NoUV clear the user-present and user-verified flags.
	NoUP, NoUV bool
	// CrossOrigin and TopOrigin are the client data's.
	CrossOrigin bool
	TopOrigin   string
	// CredentialID, when set, is the ID the answer names instead of the
	// credential's (for an assertion it changes nothing signed).
	CredentialID []byte
	// UserHandle, when set, replaces the credential's in an assertion;
	// OmitUserHandle leaves it out.
	UserHandle     []byte
	OmitUserHandle bool
	// CredentialType overrides "public-key".
	CredentialType string
}

// b64 is base64url without padding, as toJSON() writes it.
func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// clientData builds the client data JSON of a ceremony.
func (cer Ceremony) clientData(typ string) []byte {
	if cer.Type != "" {
		typ = cer.Type
	}
	m := map[string]any{"type": typ, "challenge": b64(cer.Challenge), "origin": cer.Origin, "crossOrigin": cer.CrossOrigin}
	if cer.TopOrigin != "" {
		m["topOrigin"] = cer.TopOrigin
	}
	b, _ := json.Marshal(m)
	return b
}

// authData builds authenticator data: the RP ID hash, flags, count, and
// for a registration (attested not nil) the attested credential data.
func (c *Credential) authData(cer Ceremony, attested []byte) []byte {
	hash := cer.RPIDHash
	if hash == nil {
		rpID := cer.RPID
		if rpID == "" {
			rpID = c.RPID
		}
		sum := sha256.Sum256([]byte(rpID))
		hash = sum[:]
	}
	flags := byte(flagUP | flagUV)
	if cer.NoUP {
		flags &^= flagUP
	}
	if cer.NoUV {
		flags &^= flagUV
	}
	if c.BackupEligible {
		flags |= flagBE
	}
	if c.BackupState {
		flags |= flagBS
	}
	if attested != nil {
		flags |= flagAT
	}
	b := append([]byte(nil), hash...)
	b = append(b, flags)
	b = binary.BigEndian.AppendUint32(b, c.Count)
	return append(b, attested...)
}

// cosePublicKey is the credential's public key as a COSE_Key (EC2, ES256).
func (c *Credential) cosePublicKey() []byte {
	pub, err := c.Key.PublicKey.Bytes() // 0x04 ‖ X ‖ Y
	if err != nil {
		panic(err)
	}
	key := map[int]any{1: 2, 3: -7, -1: 1, -2: pub[1:33], -3: pub[33:65]}
	b, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		panic(err)
	}
	out, err := b.Marshal(key)
	if err != nil {
		panic(err)
	}
	return out
}

// publicKeyDER is the public key as SubjectPublicKeyInfo, as
// getPublicKey() gives it.
func (c *Credential) publicKeyDER() ([]byte, error) {
	return x509.MarshalPKIXPublicKey(&c.Key.PublicKey)
}

// Register answers a creation ceremony: a RegistrationResponseJSON with
// attestation "none".
func (c *Credential) Register(cer Ceremony) []byte {
	attested := append([]byte(nil), c.AAGUID[:]...)
	attested = binary.BigEndian.AppendUint16(attested, uint16(len(c.ID)))
	attested = append(attested, c.ID...)
	attested = append(attested, c.cosePublicKey()...)
	ad := c.authData(cer, attested)
	em, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		panic(err)
	}
	att, err := em.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": ad})
	if err != nil {
		panic(err)
	}
	pub, err := c.publicKeyDER()
	if err != nil {
		panic(err)
	}
	return c.answer(cer, map[string]any{
		"clientDataJSON":     b64(cer.clientData("webauthn.create")),
		"attestationObject":  b64(att),
		"authenticatorData":  b64(ad),
		"transports":         []string{"internal", "hybrid"},
		"publicKeyAlgorithm": -7,
		"publicKey":          b64(pub),
	})
}

// Assert answers a request ceremony: an AuthenticationResponseJSON signed
// with the credential's key. The count advances by Step first.
func (c *Credential) Assert(cer Ceremony) []byte {
	c.Count += c.Step
	ad := c.authData(cer, nil)
	cd := cer.clientData("webauthn.get")
	sum := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte(nil), ad...), sum[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, c.Key, digest[:])
	if err != nil {
		panic(err)
	}
	resp := map[string]any{
		"clientDataJSON":    b64(cd),
		"authenticatorData": b64(ad),
		"signature":         b64(sig),
	}
	switch {
	case cer.OmitUserHandle:
	case cer.UserHandle != nil:
		resp["userHandle"] = b64(cer.UserHandle)
	default:
		resp["userHandle"] = b64(c.UserHandle)
	}
	return c.answer(cer, resp)
}

// answer wraps a response in the PublicKeyCredential JSON.
func (c *Credential) answer(cer Ceremony, response map[string]any) []byte {
	id := c.ID
	if cer.CredentialID != nil {
		id = cer.CredentialID
	}
	typ := "public-key"
	if cer.CredentialType != "" {
		typ = cer.CredentialType
	}
	b, err := json.Marshal(map[string]any{
		"id": b64(id), "rawId": b64(id), "type": typ,
		"response":                response,
		"clientExtensionResults":  map[string]any{},
		"authenticatorAttachment": "platform",
	})
	if err != nil {
		panic(fmt.Sprint("softauthn: ", err))
	}
	return b
}
