// The README's walk-throughs, executed: every ```sh block that begins with
// "# walk-through:" runs in bash against a fresh example server (the real
// program as a child process, memory store, a free port), with API pointing
// at it and LOG at the file its log (and so its mails) goes to. A block's
// "# server flags: ..." line gives the server's flags instead of -db memory.
// A block that uses oathtool (the authenticator app's stand-in) is skipped
// without it, except under CI=true, where it fails. The README's two
// instances on PostgreSQL run too (TestREADMETwoInstances).

package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth/internal/apitest"
)

var (
	shBlock     = regexp.MustCompile("(?s)```sh\n(# walk-through: [^\n]*)\n(.*?)```")
	serverFlags = regexp.MustCompile(`(?m)^# server flags: (.*)$`)
)

func TestREADMEWalkThroughs(t *testing.T) {
	blocks := shBlock.FindAllStringSubmatch(readREADME(t), -1)
	if len(blocks) < 3 {
		t.Fatalf("the README has %d walk-throughs, want at least 3", len(blocks))
	}
	for _, tool := range []string{"bash", "curl", "jq", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the walk-throughs need %s: %v", tool, err)
		}
	}
	for _, b := range blocks {
		name := strings.TrimPrefix(b[1], "# walk-through: ")
		t.Run(name, func(t *testing.T) {
			if strings.Contains(b[2], "oathtool ") {
				needTool(t, "oathtool", "Debian's oathtool package")
			}
			logPath := filepath.Join(t.TempDir(), "example.log")
			logFile, err := os.Create(logPath)
			if err != nil {
				t.Fatal(err)
			}
			defer logFile.Close()
			flags := []string{"-db", "memory"}
			if m := serverFlags.FindStringSubmatch(b[2]); m != nil {
				flags = strings.Fields(m[1])
			}
			c := startChildTee(t, freePort(t), logFile, flags...)
			var script strings.Builder
			script.WriteString("set -euo pipefail\n")
			for _, line := range strings.Split(b[2], "\n") {
				switch {
				case strings.HasPrefix(line, "API="):
					line = "API=" + c.url + "/api" // the test's server, on its free port
				case strings.HasPrefix(line, "LOG="):
					line = "LOG=" + logPath
				}
				script.WriteString(line + "\n")
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, "bash", "-c", script.String()).CombinedOutput()
			if err != nil {
				t.Fatalf("walk-through %q failed: %v\n%s", name, err, out)
			}
		})
	}
}

// readREADME returns the repository's README.md.
func readREADME(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// instancesBlock is the README's two instances on PostgreSQL, the ```sh
// block that begins by creating their database. TestREADMETwoInstances runs
// it on a throwaway database and free ports, with the test binary standing
// in for the one `go build` makes.
var instancesBlock = regexp.MustCompile("(?s)```sh\n(createdb .*?)```")

func TestREADMETwoInstances(t *testing.T) {
	m := instancesBlock.FindStringSubmatch(readREADME(t))
	if m == nil {
		t.Fatal("the README has no ```sh block that begins with createdb")
	}
	block := m[1]
	for _, want := range []string{"pbxauth_demo", "go build -o /tmp/pbxauth-example ./example", "127.0.0.1:8001", "127.0.0.1:8002", "/tmp/pbxauth-demo.key"} {
		if !strings.Contains(block, want) {
			t.Fatalf("the block no longer has %q, which this test replaces:\n%s", want, block)
		}
	}
	if strings.Contains(block, "go run") || strings.Contains(block, "/test") {
		t.Errorf("the block runs `go run … &` or uses the tests' database:\n%s", block)
	}
	needTool(t, "createdb", "Debian's postgresql-client package")
	admin := postgresAdmin(t)

	b := make([]byte, 6)
	rand.Read(b)
	dbName := "pbxauth_readme_" + hex.EncodeToString(b)
	t.Cleanup(func() { admin.Exec("DROP DATABASE IF EXISTS " + dbName + " WITH (FORCE)") })
	dir := t.TempDir()
	bin := filepath.Join(dir, "pbxauth-example")
	ports := [2]string{strconv.Itoa(freePort(t)), strconv.Itoa(freePort(t))}
	var script strings.Builder
	script.WriteString("set -euo pipefail\n")
	for _, line := range strings.Split(block, "\n") {
		if strings.HasPrefix(line, "go build -o ") {
			line = "ln -s " + os.Args[0] + " " + bin // the test binary runs main under childEnv
		}
		script.WriteString(strings.NewReplacer(
			"pbxauth_demo", dbName,
			"/tmp/pbxauth-example", bin,
			"/tmp/pbxauth-demo.key", filepath.Join(dir, "pbxauth-demo.key"),
			"127.0.0.1:8001", "127.0.0.1:"+ports[0],
			"127.0.0.1:8002", "127.0.0.1:"+ports[1],
		).Replace(line) + "\n")
	}
	// The servers run until the test has checked them; then the README's
	// own way to stop them.
	script.WriteString("read -r _ || true\nkill %1 %2\nwait\n")

	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script.String())
	cmd.Dir = ".." // where the README's commands run
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }) // whatever a failure left running
	urls := listening(stdout)
	var c [2]*apitest.Client
	for i := range c {
		select {
		case u, ok := <-urls:
			if !ok {
				cmd.Wait()
				t.Fatalf("the block ended before both instances listened:\n%s", stderr.String())
			}
			c[i] = apitest.NewClient(t, u)
		case <-ctx.Done():
			t.Fatalf("the instances did not both listen:\n%s", stderr.String())
		}
	}

	// A token of one instance works on the other, and so does a pending
	// authenticator app: they share the key file.
	r := c[0].Do("POST", "/auth/sign_in", map[string]string{"username": "bob", "password": "bob-pw-1234", "domain": "acme.example.test"})
	access := r.String("access_token")
	if u := c[1].Do("GET", "/auth/user", nil, apitest.Bearer(access)...); r.Status != 200 || u.Status != 200 || u.String("username") != "bob" {
		t.Fatalf("a token of the first instance on the second: sign_in %d %s, user %d %s", r.Status, r.Body, u.Status, u.Body)
	}
	e := c[0].Do("POST", "/auth/totp", nil, apitest.Bearer(access)...)
	if e.Status != 200 {
		t.Fatalf("authenticator app on the first instance: %d %s", e.Status, e.Body)
	}
	code := apitest.TOTPCode(t, e.String("secret"), time.Now())
	if r := c[1].Do("POST", "/auth/totp/confirm", map[string]string{"code": code}, apitest.Bearer(access)...); r.Status != 200 {
		t.Errorf("the app confirmed on the second instance: %d %s", r.Status, r.Body)
	}

	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the block: %v\n%s", err, stderr.String())
	}
	// kill %1 %2 stopped the servers themselves: their ports are free.
	for _, p := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:"+p)
		if err != nil {
			t.Errorf("port %s after kill %%1 %%2: %v", p, err)
			continue
		}
		l.Close()
	}
}

// postgresAdmin returns a connection to the PostgreSQL server the README's
// commands name, 127.0.0.1:5432 as postgres. Without it the test fails
// under CI and is skipped elsewhere.
func postgresAdmin(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	if err == nil {
		err = db.Ping()
	}
	if err != nil {
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatalf("PostgreSQL unreachable at 127.0.0.1:5432: %v", err)
		}
		t.Skipf("PostgreSQL unreachable at 127.0.0.1:5432: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// needTool skips the test without the program name on the PATH, or fails
// it under CI=true, where a missing tool must not pass unnoticed.
func needTool(t *testing.T, name, from string) {
	t.Helper()
	if _, err := exec.LookPath(name); err == nil {
		return
	}
	msg := name + " not found (install " + from + ")"
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatal(msg)
	}
	t.Skip(msg)
}
