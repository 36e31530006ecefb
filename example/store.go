// This file opens the store named by -db.

package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"runtime"
	"strings"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/sqlstore"
	"github.com/pbxauth/pbxauth/sqlstore/postgres"
	"github.com/pbxauth/pbxauth/sqlstore/sqlite"
)

// defaultDB is -db's default: a SQLite file beside the working directory,
// so a restart keeps users and sign-ins.
const defaultDB = "sqlite:pbxauth.db"

// openStore opens the store named by dsn ("memory", "sqlite:PATH" or a
// postgres:// URL) and returns a function closing it. The cookie sessions
// are kept in the same database too (Config.SessionStore): a restart keeps
// browsers signed in, and on PostgreSQL several example processes behind a
// load balancer behave as one. Warnings go to cfg.Logger.
func openStore(ctx context.Context, dsn string, cfg *pbxauth.Config) (func(), error) {
	if dsn == "memory" {
		cfg.Store = memstore.New()
		return func() {}, nil
	}
	st, err := openSQL(ctx, dsn, cfg.Logger)
	if err != nil {
		return nil, err
	}
	cfg.Store = st
	if cfg.SessionStore, err = st.SessionStore(); err != nil {
		st.Close()
		return nil, err
	}
	return func() { st.Close() }, nil
}

// openSQL opens the SQL store that dsn names through the package of its
// database: "sqlite:PATH" (the file made private first) or a postgres:// or
// postgresql:// URL. Errors never quote dsn: it may hold a password.
func openSQL(ctx context.Context, dsn string, logger *slog.Logger) (*sqlstore.Store, error) {
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		if path == "" || path == ":memory:" {
			return nil, errors.New(`-db: "sqlite:" needs the path of a database file`)
		}
		if err := privateSQLiteFile(path, logger); err != nil {
			return nil, err
		}
		return sqlite.Open(ctx, path)
	}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return postgres.Open(ctx, dsn)
	}
	return nil, errors.New(`-db must be "memory", "sqlite:PATH" or a postgres:// URL`)
}

// privateSQLiteFile makes the SQLite database file at path, when missing,
// with mode 0600 before SQLite opens it: SQLite gives the -wal and -shm
// files the main file's mode, and all three hold password hashes, token
// hashes and cookie sessions. A database file that exists already and is
// readable by group or others is warned of, not refused: it is the
// operator's, and the data is in it already.
func privateSQLiteFile(path string, logger *slog.Logger) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		err = f.Chmod(0o600) // whatever the umask took away
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}
	if !errors.Is(err, fs.ErrExist) {
		return err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if readableByOthers(fi) {
		if logger == nil {
			logger = slog.Default()
		}
		logger.Warn("the database file is readable by group or others; it holds password and token hashes and cookie sessions: chmod 600 it (and its -wal and -shm files)",
			"path", path, "mode", fmt.Sprintf("%04o", fi.Mode().Perm()))
	}
	return nil
}

// readableByOthers says whether fi's mode lets its group or others read
// it. Windows has no such mode bits.
func readableByOthers(fi fs.FileInfo) bool {
	return runtime.GOOS != "windows" && fi.Mode().Perm()&0o044 != 0
}
