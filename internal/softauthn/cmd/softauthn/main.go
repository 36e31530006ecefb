// Command softauthn is the software authenticator of internal/softauthn on
// the command line, for walk-throughs and scripts that drive the passkey
// routes with curl: it reads an options answer ({"token","publicKey"}, or
// the publicKey alone) on standard input and writes the credential JSON a
// browser's toJSON() would send, keeping its passkey in a file.
//
//	softauthn -file alice.passkey -origin http://localhost:8887 register < options.json > credential.json
//	softauthn -file alice.passkey -origin http://localhost:8887 assert < options.json > credential.json
//
// The file holds a private key: it is created with mode 0600. For tests
// only.
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
	"strings"

	"github.com/pbxauth/pbxauth/internal/softauthn"
)

// saved is the passkey as the file keeps it.
type saved struct {
	ID         []byte `json:"id"`
	Key        []byte `json:"key"` // PKCS #8
	RPID       string `json:"rp_id"`
	UserHandle []byte `json:"user_handle"`
	Count      uint32 `json:"count"`
	Synced     bool   `json:"synced"`
}

// options is what the commands read of the options.
type options struct {
	Challenge string `json:"challenge"`
	RPID      string `json:"rpId"`
	RP        struct {
		ID string `json:"id"`
	} `json:"rp"`
	User struct {
		ID string `json:"id"`
	} `json:"user"`
}

func main() {
	file := flag.String("file", "", "the file that keeps the passkey (required)")
	origin := flag.String("origin", "", "the page's origin, such as http://localhost:8887 (required)")
	synced := flag.Bool("synced", false, "register a synced passkey (BE=1, BS=1, count always 0)")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: softauthn -file FILE -origin ORIGIN [-synced] register|assert < options.json > credential.json")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *file == "" || *origin == "" || flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *file, *origin, *synced, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "softauthn:", err)
		os.Exit(1)
	}
}

func run(cmd, file, origin string, synced bool, in io.Reader, out io.Writer) error {
	o, err := readOptions(in)
	if err != nil {
		return err
	}
	challenge, err := b64(o.Challenge)
	if err != nil {
		return fmt.Errorf("challenge: %w", err)
	}
	cer := softauthn.Ceremony{Challenge: challenge, Origin: origin}
	var answer []byte
	switch cmd {
	case "register":
		handle, err := b64(o.User.ID)
		if err != nil {
			return fmt.Errorf("user.id: %w", err)
		}
		c := softauthn.New(o.RP.ID, handle)
		if synced {
			c.Synced()
		}
		answer = c.Register(cer)
		if err := save(file, c); err != nil {
			return err
		}
	case "assert":
		c, err := load(file)
		if err != nil {
			return err
		}
		answer = c.Assert(cer)
		if err := save(file, c); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown command %q: register or assert", cmd)
	}
	_, err = fmt.Fprintf(out, "%s\n", answer)
	return err
}

// readOptions reads an options answer, or its publicKey alone.
func readOptions(in io.Reader) (options, error) {
	var whole struct {
		PublicKey *options `json:"publicKey"`
		options
	}
	if err := json.NewDecoder(in).Decode(&whole); err != nil {
		return options{}, fmt.Errorf("reading the options: %w", err)
	}
	if whole.PublicKey != nil {
		return *whole.PublicKey, nil
	}
	if whole.options.Challenge == "" {
		return options{}, errors.New("the options have no challenge")
	}
	return whole.options, nil
}

func b64(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

func save(file string, c *softauthn.Credential) error {
	key, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		return err
	}
	b, err := json.Marshal(saved{ID: c.ID, Key: key, RPID: c.RPID, UserHandle: c.UserHandle, Count: c.Count, Synced: c.BackupEligible})
	if err != nil {
		return err
	}
	return os.WriteFile(file, b, 0o600)
}

func load(file string) (*softauthn.Credential, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var s saved
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	k, err := x509.ParsePKCS8PrivateKey(s.Key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an ECDSA key", file)
	}
	c := &softauthn.Credential{ID: s.ID, Key: key, RPID: s.RPID, UserHandle: s.UserHandle, Count: s.Count, Step: 1}
	if s.Synced {
		c.Synced()
	}
	return c, nil
}
