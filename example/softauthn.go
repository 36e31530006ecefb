// This file is "example softauthn": a software passkey for trying passkeys
// from a shell (the README's walk-through), where no browser makes the
// WebAuthn answers. It reads an options answer of the API on stdin and
// writes the credential to send back on stdout; the passkey, private key
// included, lives in a file of its own. It is a development tool of the
// example, not part of the package: a passkey whose key sits in a file is
// no better than a password.

package main

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/pbxauth/pbxauth/internal/softauthn"
)

// softauthnUsage is the subcommand's help.
const softauthnUsage = `usage: example softauthn register|assert -origin ORIGIN -key FILE < OPTIONS > CREDENTIAL

A software passkey for trying passkeys from a shell. OPTIONS is the answer of
POST /auth/passkeys/options (register) or of POST /auth/sign_in/passkey/options
or /auth/verify_passkey/options (assert); CREDENTIAL is what to send back as
"credential". register makes a new passkey in FILE (mode 0600); assert signs
with it and counts its use there.

`

// passkeyFile is the passkey as the key file keeps it.
type passkeyFile struct {
	ID         []byte `json:"credential_id"`
	Key        []byte `json:"private_key"` // PKCS #8
	RPID       string `json:"rp_id"`
	UserHandle []byte `json:"user_handle"`
	Count      uint32 `json:"sign_count"`
}

// webauthnOptions is what the tool reads of an options answer.
type webauthnOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RPID      string `json:"rpId"` // request options
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"` // creation options
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		AllowCredentials []credentialRef `json:"allowCredentials"`
	} `json:"publicKey"`
}

// credentialRef names a credential in options.
type credentialRef struct {
	ID string `json:"id"`
}

// softauthnCommand runs "example softauthn ...".
func softauthnCommand(args []string, in io.Reader, out, errOut io.Writer) error {
	if len(args) == 0 || !slices.Contains([]string{"register", "assert"}, args[0]) {
		fmt.Fprint(errOut, softauthnUsage)
		if len(args) > 0 && slices.Contains([]string{"-h", "-help", "--help", "help"}, args[0]) {
			return flag.ErrHelp
		}
		return errors.New("softauthn: register or assert is required")
	}
	fs := flag.NewFlagSet("example softauthn "+args[0], flag.ContinueOnError)
	fs.SetOutput(errOut)
	origin := fs.String("origin", "", "the origin of the page the ceremony is for, e.g. http://localhost:8887 (required)")
	keyPath := fs.String("key", "", "the file that keeps the passkey (required)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *origin == "" || *keyPath == "" {
		fs.Usage()
		return errors.New("softauthn: -origin and -key are required")
	}
	var o webauthnOptions
	if err := json.NewDecoder(in).Decode(&o); err != nil {
		return fmt.Errorf("softauthn: reading the options on stdin: %w", err)
	}
	challenge, err := base64.RawURLEncoding.DecodeString(o.PublicKey.Challenge)
	if err != nil || len(challenge) == 0 {
		return errors.New("softauthn: the options have no challenge (is stdin an options answer?)")
	}
	cer := softauthn.Ceremony{Challenge: challenge, Origin: *origin}
	var answer []byte
	if args[0] == "register" {
		answer, err = register(o, cer, *keyPath)
	} else {
		answer, err = assert(o, cer, *keyPath)
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%s\n", answer)
	return err
}

// register makes a passkey for the creation options and keeps it in path.
func register(o webauthnOptions, cer softauthn.Ceremony, path string) ([]byte, error) {
	handle, err := base64.RawURLEncoding.DecodeString(o.PublicKey.User.ID)
	if err != nil || o.PublicKey.RP.ID == "" || len(handle) == 0 {
		return nil, errors.New("softauthn register: stdin is no creation options answer (POST /auth/passkeys/options)")
	}
	c := softauthn.New(o.PublicKey.RP.ID, handle)
	answer := c.Register(cer)
	return answer, savePasskey(path, c)
}

// assert signs the request options with the passkey in path.
func assert(o webauthnOptions, cer softauthn.Ceremony, path string) ([]byte, error) {
	c, err := loadPasskey(path)
	if err != nil {
		return nil, err
	}
	if o.PublicKey.RPID != c.RPID {
		return nil, fmt.Errorf("softauthn assert: the options are for %q, the passkey for %q", o.PublicKey.RPID, c.RPID)
	}
	id := base64.RawURLEncoding.EncodeToString(c.ID)
	if len(o.PublicKey.AllowCredentials) > 0 && !slices.Contains(o.PublicKey.AllowCredentials, credentialRef{ID: id}) {
		return nil, errors.New("softauthn assert: the options do not allow this passkey")
	}
	answer := c.Assert(cer)
	return answer, savePasskey(path, c)
}

// savePasskey writes c to path, readable by its owner only.
func savePasskey(path string, c *softauthn.Credential) error {
	key, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		return err
	}
	b, err := json.Marshal(passkeyFile{ID: c.ID, Key: key, RPID: c.RPID, UserHandle: c.UserHandle, Count: c.Count})
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// loadPasskey reads the passkey savePasskey wrote.
func loadPasskey(path string) (*softauthn.Credential, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("softauthn: %w (make the passkey with register first)", err)
	}
	var f passkeyFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("softauthn: %s: %w", path, err)
	}
	k, err := x509.ParsePKCS8PrivateKey(f.Key)
	key, ok := k.(*ecdsa.PrivateKey)
	if err != nil || !ok {
		return nil, fmt.Errorf("softauthn: %s holds no ES256 key", path)
	}
	return &softauthn.Credential{ID: f.ID, Key: key, RPID: f.RPID, UserHandle: f.UserHandle, Count: f.Count, Step: 1}, nil
}
