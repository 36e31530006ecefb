// This file finds the encryption key that seals authenticator-app secrets
// (-key-file): beside a SQLite database by default, made on first start,
// random per run for the memory store, and never made anew for a database
// that already holds secrets sealed with a lost key.

package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/pbxauth/pbxauth/store"
)

// keyFileFor is the default -key-file of a -db: beside a SQLite file, none
// otherwise.
func keyFileFor(db string) string {
	if path, ok := strings.CutPrefix(db, "sqlite:"); ok {
		return filepath.Join(filepath.Dir(path), "pbxauth.key")
	}
	return ""
}

// encryptionKeys returns Config.EncryptionKeys for the server: the key in
// path (64 hex digits), created with mode 0600 when missing; a random key
// per run for the memory store without a path; none without a path
// otherwise (PostgreSQL: authenticator apps then answer 404).
func encryptionKeys(ctx context.Context, path, db string, st store.Store) ([][]byte, error) {
	if path == "" {
		if db != "memory" {
			return nil, nil
		}
		key := make([]byte, 32)
		rand.Read(key)
		return [][]byte{key}, nil
	}
	b, err := readKeyFile(path)
	if err == nil {
		key, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(key) != 32 {
			return nil, fmt.Errorf("-key-file %s: want 64 hex digits (a 32-byte key)", path)
		}
		return [][]byte{key}, nil
	}
	if errors.Is(err, errKeyReadable) {
		return nil, fmt.Errorf("-key-file %s %w: it opens every authenticator secret in the database; chmod 600 %[1]s and start again", path, err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("-key-file: %w", err)
	}
	if n, err := sealedSecrets(ctx, st); err != nil {
		return nil, err
	} else if n > 0 {
		return nil, fmt.Errorf("-key-file %s is missing, but the database holds %d secrets (authenticator apps, Microsoft credentials) sealed with a key: restore the file (a new key cannot open them)", path, n)
	}
	key := make([]byte, 32)
	rand.Read(key)
	switch err := writeNewKey(path, key); {
	case errors.Is(err, fs.ErrExist):
		// Another process sharing the database made it meanwhile: its key
		// is the one, or secrets would be sealed with two keys.
		return encryptionKeys(ctx, path, db, st)
	case err != nil:
		return nil, fmt.Errorf("-key-file: %w", err)
	}
	return [][]byte{key}, nil
}

// errKeyReadable is readKeyFile's refusal of a key file that others can read.
var errKeyReadable = errors.New("is readable by group or others")

// readKeyFile reads the key file at path, unless its group or others may
// read it: such a key is no longer the server's alone, so the server
// refuses to use it rather than seal new secrets with it.
func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if readableByOthers(fi) {
		return nil, fmt.Errorf("(mode %04o) %w", fi.Mode().Perm(), errKeyReadable)
	}
	return io.ReadAll(f)
}

// writeNewKey makes path hold key in hex, never over an existing file and
// never half-written: the key goes to a temporary file, synced, which is
// then linked to path (which fails with fs.ErrExist when path exists).
func writeNewKey(path string, key []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".pbxauth-key-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	_, err = f.WriteString(hex.EncodeToString(key) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Link(f.Name(), path)
}

// sealedSecrets counts the sealed secrets a SQL store holds: authenticator
// secrets, tenants' Microsoft credentials and their generated
// certificates' keys.
func sealedSecrets(ctx context.Context, st store.Store) (int, error) {
	s, ok := st.(interface{ DB() *sql.DB })
	if !ok {
		return 0, nil
	}
	var n int
	err := s.DB().QueryRowContext(ctx, `SELECT (SELECT count(*) FROM pbxauth_totp) + (SELECT count(*) FROM pbxauth_tenants
		WHERE ms365_client_secret LIKE $1 OR ms365_client_private_key LIKE $1) + (SELECT count(*) FROM pbxauth_ms365_credentials
		WHERE current_private_key LIKE $1 OR known_good_secret LIKE $1 OR known_good_private_key LIKE $1)`, store.SealedPrefix+"%").Scan(&n)
	return n, err
}
