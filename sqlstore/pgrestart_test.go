// This file stops and starts a PostgreSQL server of the test's own (initdb
// into a temporary directory, on a free loopback port; never the machine's
// server) under load: while it is away every answer is 503 with
// Retry-After, never 500, and once it is back the same Store serves again
// without a restart.

package sqlstore_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth/internal/apitest"
)

// throwawayPG is a PostgreSQL server in a temporary directory.
type throwawayPG struct {
	t         *testing.T
	bin, data string
	port      int
	asUser    string // run the server as this user (initdb refuses root)
}

// startThrowawayPG makes and starts a PostgreSQL cluster of the test's
// own; it is skipped when no PostgreSQL binaries are installed.
func startThrowawayPG(t *testing.T) *throwawayPG {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		t.Skip("skipping: no PostgreSQL binaries (initdb) installed")
	}
	dir, err := os.MkdirTemp("", "pbxauth-pg-")
	if err != nil {
		t.Fatal(err)
	}
	pg := &throwawayPG{t: t, bin: filepath.Dir(bins[len(bins)-1]), data: filepath.Join(dir, "data")}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skip("skipping: running as root and there is no postgres user to run PostgreSQL as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		pg.asUser = "postgres"
	}
	t.Cleanup(func() {
		pg.ctl("stop", "-m", "immediate")
		os.RemoveAll(dir)
	})
	pg.run(filepath.Join(pg.bin, "initdb"), "-D", pg.data, "-A", "trust", "-U", "postgres", "--no-sync")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pg.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	pg.start()
	return pg
}

// run runs a PostgreSQL program (as asUser when set) and fails on error.
func (pg *throwawayPG) run(prog string, args ...string) {
	pg.t.Helper()
	if out, err := pg.command(prog, args...).CombinedOutput(); err != nil {
		pg.t.Fatalf("%s %v: %v\n%s", filepath.Base(prog), args, err, out)
	}
}

func (pg *throwawayPG) command(prog string, args ...string) *exec.Cmd {
	if pg.asUser != "" {
		return exec.Command("runuser", append([]string{"-u", pg.asUser, "--", prog}, args...)...)
	}
	return exec.Command(prog, args...)
}

// ctl runs pg_ctl, ignoring failure (for cleanup).
func (pg *throwawayPG) ctl(args ...string) {
	pg.command(filepath.Join(pg.bin, "pg_ctl"), append([]string{"-D", pg.data}, args...)...).Run()
}

func (pg *throwawayPG) start() {
	pg.t.Helper()
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s -c fsync=off", pg.port, filepath.Dir(pg.data))
	pg.run(filepath.Join(pg.bin, "pg_ctl"), "-D", pg.data, "-o", opts, "-l", filepath.Join(filepath.Dir(pg.data), "log"), "-w", "-t", "60", "start")
}

func (pg *throwawayPG) stop() {
	pg.t.Helper()
	pg.run(filepath.Join(pg.bin, "pg_ctl"), "-D", pg.data, "-m", "fast", "-w", "-t", "60", "stop")
}

func (pg *throwawayPG) dsn() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=5", pg.port)
}

// TestPostgresRestartUnderLoad: 8 clients keep asking GET /auth/user while
// PostgreSQL stops and starts again: they get 200 or 503 with Retry-After,
// never anything else, and 200 again once it is back.
func TestPostgresRestartUnderLoad(t *testing.T) {
	pg := startThrowawayPG(t)
	st := open(t, pg.dsn())
	seedBob(t, st)
	c := instance(t, st)
	access, _ := signInBob(t, c)

	var (
		stop     atomic.Bool
		ok, down atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		bad      []string
	)
	hc := &http.Client{Timeout: 30 * time.Second}
	for range 8 {
		wg.Go(func() {
			for !stop.Load() {
				req, _ := http.NewRequest("GET", c.URL+apitest.Prefix+"/auth/user", nil)
				req.Header.Set("Authorization", "Bearer "+access)
				resp, err := hc.Do(req)
				if err != nil {
					mu.Lock()
					bad = append(bad, err.Error())
					mu.Unlock()
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				verr := apitest.Validate(req, resp.StatusCode, resp.Header, b)
				switch {
				case verr == nil && resp.StatusCode == 200:
					ok.Add(1)
				case verr == nil && resp.StatusCode == 503 && resp.Header.Get("Retry-After") != "":
					down.Add(1)
				default:
					mu.Lock()
					bad = append(bad, fmt.Sprintf("%d %s %v", resp.StatusCode, b, verr))
					mu.Unlock()
				}
			}
		})
	}
	waitCount := func(what string, n *atomic.Int64, atLeast int64) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for n.Load() < atLeast {
			if time.Now().After(deadline) {
				stop.Store(true)
				t.Fatalf("timed out waiting for %s", what)
			}
			<-tick.C
		}
	}
	waitCount("answers before the stop", &ok, 50)
	pg.stop()
	waitCount("503 answers while PostgreSQL is down", &down, 20)
	pg.start()
	before := ok.Load()
	waitCount("200 answers once PostgreSQL is back", &ok, before+50)
	stop.Store(true)
	wg.Wait()
	if len(bad) > 0 {
		t.Fatalf("%d answers other than 200 or 503 with Retry-After, the first: %s", len(bad), bad[0])
	}
	t.Logf("%d answered 200, %d 503", ok.Load(), down.Load())
}
