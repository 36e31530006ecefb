package modcheck

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The repository's modules, by path, and their directories below its root.
const (
	rootModule     = "github.com/pbxauth/pbxauth"
	sqlstoreModule = rootModule + "/sqlstore"
	postgresModule = rootModule + "/sqlstore/postgres"
	sqliteModule   = rootModule + "/sqlstore/sqlite"
)

var moduleDirs = map[string]string{
	rootModule:     ".",
	sqlstoreModule: "sqlstore",
	postgresModule: "sqlstore/postgres",
	sqliteModule:   "sqlstore/sqlite",
}

// unwanted is what a host must not compile unless it chose it: database
// drivers, and the tooling of the repository's own tests. Each prefix is a
// package path or the start of one ("github.com/zitadel/oidc" covers
// github.com/zitadel/oidc/v3/pkg/op).
var unwanted = []struct {
	prefix, what string
	driver       bool // a database driver, which a host's go.sum must not even name
}{
	{"github.com/jackc/pgx", "a database driver (PostgreSQL)", true},
	{"modernc.org/sqlite", "a database driver (SQLite)", true},
	{"github.com/lib/pq", "a database driver (PostgreSQL)", true},
	{"github.com/mattn/go-sqlite3", "a database driver (SQLite)", true},
	{"github.com/go-sql-driver/mysql", "a database driver (MySQL)", true},
	{"github.com/chromedp", "test tooling (a browser)", false},
	{"github.com/oauth2-proxy/mockoidc", "test tooling (an OpenID test provider)", false},
	{"github.com/zitadel/oidc", "test tooling (an OpenID test provider)", false},
	{"github.com/getkin/kin-openapi", "test tooling (an OpenAPI validator)", false},
	{"github.com/oapi-codegen", "test tooling (an OpenAPI code generator)", false},
	{"github.com/emersion/go-smtp", "test tooling (an SMTP server)", false},
	{rootModule + "/internal/apitest", "test tooling (the repository's HTTP test client)", false},
	{rootModule + "/internal/oidctest", "test tooling (the repository's OpenID provider)", false},
	{rootModule + "/internal/smtptest", "test tooling (the repository's SMTP server)", false},
	{rootModule + "/storetest", "test tooling (the conformance suite)", false},
}

// A host is a throwaway module that depends on pbxauth as a host does.
type host struct {
	name    string
	modules []string // the repository's modules it requires
	chosen  []string // prefixes of unwanted it chose (its driver)
	// driverFree: neither its go.sum nor its module graph names a
	// database driver (the root go.mod requires none).
	driverFree bool
	main       string // its main.go
}

var hosts = []host{{
	name:       "the root package only",
	modules:    []string{rootModule},
	driverFree: true,
	main: `package main

import (
	"log"
	"net/http"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/memstore"
)

func main() {
	a, err := pbxauth.New(pbxauth.Config{Store: memstore.New(), PublicURL: "http://127.0.0.1:8887/api"})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", http.StripPrefix("/api", a.Handler()))
	mux.Handle("GET /api/extensions", a.RequireBearer(http.NotFoundHandler()))
	log.Fatal(http.ListenAndServe("127.0.0.1:8887", mux))
}
`,
}, {
	name:    "PostgreSQL",
	modules: []string{rootModule, sqlstoreModule, postgresModule},
	chosen:  []string{"github.com/jackc/pgx"},
	main:    sqlHost("postgres", "DATABASE_URL"),
}, {
	name:    "SQLite",
	modules: []string{rootModule, sqlstoreModule, sqliteModule},
	chosen:  []string{"modernc.org/sqlite"},
	main:    sqlHost("sqlite", "AUTH_DB"),
}}

// sqlHost is the main.go of a host on the SQL store of package pkg
// (sqlstore/pkg), opened where the environment variable env says, cookie
// sessions in it too.
func sqlHost(pkg, env string) string {
	return `package main

import (
	"context"
	"log"
	"net/http"
	"os"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/sqlstore/` + pkg + `"
)

func main() {
	st, err := ` + pkg + `.Open(context.Background(), os.Getenv("` + env + `"))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	sessions, err := st.SessionStore()
	if err != nil {
		log.Fatal(err)
	}
	a, err := pbxauth.New(pbxauth.Config{Store: st, SessionStore: sessions})
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe("127.0.0.1:8887", a.Handler()))
}
`
}

// TestHostsCompileOnlyWhatTheyChose builds each host, tidies its module, and
// fails when it compiles a driver it did not choose or test tooling, or when
// the go.sum or module graph of the root-only host names a driver.
func TestHostsCompileOnlyWhatTheyChose(t *testing.T) {
	if testing.Short() {
		t.Skip("builds throwaway modules with the go command")
	}
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hosts {
		t.Run(h.name, func(t *testing.T) {
			dir := writeHost(t, repo, h)
			run(t, dir, "mod", "tidy")
			if h.driverFree {
				checkDriverFree(t, dir, h)
			}
			// No host chose lib/pq: scs's postgresstore would bring it
			// into every SQL host's go.sum.
			if sum, err := os.ReadFile(filepath.Join(dir, "go.sum")); err != nil || strings.Contains(string(sum), "github.com/lib/pq") {
				t.Errorf("%s: go.sum names github.com/lib/pq, a driver no host chose (err %v)", h.name, err)
			}
			checkDeps(t, dir, h)
		})
	}
}

// writeHost writes h's module into a temporary directory: its main.go, a
// go.mod requiring the repository's modules with replace directives to
// them, and a go.sum seeded from theirs so that nothing needs the checksum
// database.
func writeHost(t *testing.T, repo string, h host) string {
	t.Helper()
	dir := t.TempDir()
	var mod, sum bytes.Buffer
	fmt.Fprintf(&mod, "module example.com/host\n\ngo %s\n", goVersion(t, repo))
	for _, m := range h.modules {
		mdir := filepath.Join(repo, moduleDirs[m])
		gomod, err := os.ReadFile(filepath.Join(mdir, "go.mod"))
		if err != nil {
			t.Fatalf("%s has no go.mod: %s is to be a module of its own (%v)", mdir, m, err)
		}
		if got := modulePath(gomod); got != m {
			t.Fatalf("%s/go.mod declares module %q, want %q", mdir, got, m)
		}
		fmt.Fprintf(&mod, "\nrequire %s v0.0.0\n\nreplace %s => %s\n", m, m, mdir)
		if b, err := os.ReadFile(filepath.Join(mdir, "go.sum")); err == nil {
			sum.Write(b)
		}
	}
	// The repository's other modules are only replaced, not required: a
	// published release has them at real versions, and the go.mod files
	// of those h requires name them (sqlstore's tests use both drivers),
	// so the module graph must be able to read them.
	for m, d := range moduleDirs {
		if slices.Contains(h.modules, m) {
			continue
		}
		mdir := filepath.Join(repo, d)
		fmt.Fprintf(&mod, "\nreplace %s => %s\n", m, mdir)
		if b, err := os.ReadFile(filepath.Join(mdir, "go.sum")); err == nil {
			sum.Write(b)
		}
	}
	for name, b := range map[string][]byte{"go.mod": mod.Bytes(), "go.sum": sum.Bytes(), "main.go": []byte(h.main)} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// checkDriverFree fails when the tidied module in dir names a database
// driver, in its go.sum or in its module graph, saying which module's go.mod
// requires it. Module graph pruning keeps a driver that only the root's
// go.mod requires out of a host's go.sum; go list -m all still shows it, and
// that the root go.mod requires no driver is what keeps the go.sum free of
// one for good.
func checkDriverFree(t *testing.T, dir string, h host) {
	t.Helper()
	sum, err := os.ReadFile(filepath.Join(dir, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	where := map[string]string{
		"the go.sum":                        string(sum),
		"the module graph (go list -m all)": run(t, dir, "list", "-m", "all"),
	}
	for _, place := range slices.Sorted(maps.Keys(where)) {
		reported := map[string]bool{}
		for line := range strings.Lines(where[place]) {
			mod, _, _ := strings.Cut(line, " ")
			for _, u := range unwanted {
				if !u.driver || !under(mod, u.prefix) || reported[mod] {
					continue
				}
				reported[mod] = true
				t.Errorf("%s of a host on %s (requiring %s) names %s, %s: %s\nrequired by the go.mod of (go mod graph): %s\ngo mod why -m %s:\n%s",
					place, h.name, strings.Join(h.modules, ", "), mod, u.what, strings.TrimSpace(line),
					strings.Join(requirers(t, dir, mod), ", "), mod, run(t, dir, "mod", "why", "-m", mod))
			}
		}
	}
}

// requirers lists the modules whose go.mod requires mod in dir's module
// graph.
func requirers(t *testing.T, dir, mod string) []string {
	var from []string
	for line := range strings.Lines(run(t, dir, "mod", "graph")) {
		a, b, _ := strings.Cut(strings.TrimSpace(line), " ")
		if p, _, _ := strings.Cut(b, "@"); p == mod {
			from = append(from, a)
		}
	}
	return from
}

// checkDeps fails when the host in dir compiles a package of unwanted that
// it did not choose, naming the import chain that brings it in.
func checkDeps(t *testing.T, dir string, h host) {
	t.Helper()
	reported := map[string]bool{}
	list := run(t, dir, "list", "-deps", "-f", "{{.ImportPath}} {{with .Module}}{{.Path}}{{end}}", "./...")
	for line := range strings.Lines(list) {
		pkg, mod, _ := strings.Cut(strings.TrimSpace(line), " ")
		for _, u := range unwanted {
			if !under(pkg, u.prefix) || slices.Contains(h.chosen, u.prefix) || reported[u.prefix] {
				continue
			}
			reported[u.prefix] = true
			why := run(t, dir, "mod", "why", "-m", mod)
			if mod == "" || strings.HasPrefix(mod, rootModule) {
				why = run(t, dir, "mod", "why", pkg) // a package of the repository: its import chain
			}
			t.Errorf("a host on %s compiles %s, %s (module %s); the imports that bring it in (go mod why):\n%s",
				h.name, pkg, u.what, mod, why)
		}
	}
	if !strings.Contains(list, "\n"+rootModule+" ") {
		t.Fatalf("go list -deps of the host does not list %s: the check looked at the wrong packages", rootModule)
	}
}

// under says whether the path p is prefix or lies below it.
func under(p, prefix string) bool {
	return p == prefix || strings.HasPrefix(p, prefix+"/")
}

// run runs the go command in dir, outside any workspace, and returns its
// standard output; it fails the test when the command fails. The module's
// go.sum comes from the repository's; what is missing from it is fetched
// through the environment's proxy without asking the checksum database:
// these builds are looked at, never shipped.
func run(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "GOSUMDB=off")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go %s in %s: %v\n%s%s", strings.Join(args, " "), dir, err, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.String()
}

var (
	goLine     = regexp.MustCompile(`(?m)^go ([0-9][^\s]*)\s*$`)
	moduleLine = regexp.MustCompile(`(?m)^module\s+"?([^\s"]+)"?\s*$`)
)

// goVersion is the go line of the root go.mod, so that a host asks for the
// same language version as pbxauth.
func goVersion(t *testing.T, repo string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repo, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := goLine.FindSubmatch(b)
	if m == nil {
		t.Fatal("the root go.mod has no go line")
	}
	return string(m[1])
}

// modulePath is the module path a go.mod declares.
func modulePath(gomod []byte) string {
	if m := moduleLine.FindSubmatch(gomod); m != nil {
		return string(m[1])
	}
	return ""
}
