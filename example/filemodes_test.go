package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/pbxauth/pbxauth/internal/apitest"
)

// TestExampleFileModes: on a fresh directory the example makes its SQLite
// database, and so the -wal and -shm files SQLite makes beside it, and its
// key file readable by its owner only (0600), under the usual umask 022 that
// left SQLite's own files 0644. With a database holding tokens and a cookie
// session, it refuses to start when group or others can read the key file,
// and warns when they can read the database file.
func TestExampleFileModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix file modes")
	}
	// Not parallel: the umask is the process's (parallel tests run after).
	defer syscall.Umask(syscall.Umask(0o022))
	dir := t.TempDir()
	db := filepath.Join(dir, "pbxauth.db")
	key := filepath.Join(dir, "pbxauth.key")
	files := []string{db, db + "-wal", db + "-shm", key}

	t.Run("first start", func(t *testing.T) {
		c := apitest.NewClient(t, startExample(t, map[string]string{"PBXAUTH_ADMIN_PASSWORD": "admin-pw-12345"}, "-db", "sqlite:"+db))
		admin := map[string]string{"username": "admin", "password": "admin-pw-12345"}
		if r := c.Do("POST", "/auth/sign_in", admin); r.Status != 200 {
			t.Fatalf("sign_in: %d %s", r.Status, r.Body)
		}
		if r := c.Do("POST", "/login", admin, "Origin", c.URL); r.Status != 200 {
			t.Fatalf("login: %d %s", r.Status, r.Body)
		}
		// While the server runs, as a backup or another user would find them.
		for _, f := range files {
			if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: %v, %v; want mode 0600", filepath.Base(f), fi, err)
			}
		}
	})

	t.Run("database readable by others", func(t *testing.T) {
		if err := os.Chmod(db, 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(db, 0o600)
		c := startChild(t, freePort(t), "-db", "sqlite:"+db)
		c.waitLog(t, "the database file is readable by group or others", 1)
		if code := c.stop(t, syscall.SIGTERM); code != 0 {
			t.Errorf("exit code %d", code)
		}
	})

	t.Run("key file readable by others", func(t *testing.T) {
		for _, mode := range []os.FileMode{0o644, 0o640, 0o604} {
			if err := os.Chmod(key, mode); err != nil {
				t.Fatal(err)
			}
			listened, err := runUntilListening(t, "-addr", "127.0.0.1:0", "-db", "sqlite:"+db)
			if listened || err == nil || !strings.Contains(err.Error(), "readable by group or others") || !strings.Contains(err.Error(), "chmod 600 "+key) {
				t.Errorf("key file mode %04o: started %v, %v; want a refusal naming the fix", mode, listened, err)
			}
		}
		if err := os.Chmod(key, 0o400); err != nil {
			t.Fatal(err)
		}
		if listened, err := runUntilListening(t, "-addr", "127.0.0.1:0", "-db", "sqlite:"+db); !listened || err != nil {
			t.Errorf("key file mode 0400: started %v, %v", listened, err)
		}
	})
}

// runUntilListening runs the example with args and stops it once it
// listens; it returns run's error and whether it listened.
func runUntilListening(t *testing.T, args ...string) (listened bool, err error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args, func(string) string { return "" }, pw)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "listening on ") {
			listened = true
			cancel()
		}
	}
	err = <-done
	return listened, err
}
