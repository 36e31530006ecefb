// The README's Go, compiled: every ```go block of ../README.md is a complete,
// gofmt-formatted Go file (package clause and imports), and each is vetted in
// a throwaway module that depends on pbxauth's modules the way a host's
// module does (replace directives to this repository), outside the
// workspace.

package main

import (
	"bytes"
	"fmt"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The repository's modules a README snippet may import, and their
// directories relative to the repository's root.
var readmeModules = map[string]string{
	"github.com/pbxauth/pbxauth":                   ".",
	"github.com/pbxauth/pbxauth/sqlstore":          "sqlstore",
	"github.com/pbxauth/pbxauth/sqlstore/sqlite":   "sqlstore/sqlite",
	"github.com/pbxauth/pbxauth/sqlstore/postgres": "sqlstore/postgres",
}

// A goBlock is a ```go block of the README: the line of its fence and its
// text, unindented.
type goBlock struct {
	line int
	text string
}

func TestREADMEGoBlocksCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the README's Go in a throwaway module with the go command")
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := goBlocks(string(readme))
	if len(blocks) < 5 {
		t.Fatalf("the README has %d ```go blocks, want at least 5", len(blocks))
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := snippetModule(t, repo)
	for _, b := range blocks {
		name := fmt.Sprintf("line%d", b.line)
		file := "main.go"
		if strings.Contains(b.text, "\nfunc Test") {
			file = "snippet_test.go"
		}
		if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, file), []byte(b.text), 0o644); err != nil {
			t.Fatal(err)
		}
		// One at a time: with -mod=mod the go command may write go.mod.
		if out, err := goIn(t, dir, "vet", "./"+name); err != nil {
			t.Errorf("README.md:%d: the ```go block does not compile as a file of its own (%v):\n%s\n--- the block:\n%s",
				b.line, err, out, b.text)
		}
	}
}

// TestREADMEGoBlocksAreFormatted fails on a ```go block of the README that
// gofmt would change.
func TestREADMEGoBlocksAreFormatted(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range goBlocks(string(readme)) {
		formatted, err := format.Source([]byte(b.text))
		if err != nil {
			t.Errorf("README.md:%d: the ```go block is no Go file: %v", b.line, err)
		} else if string(formatted) != b.text {
			t.Errorf("README.md:%d: gofmt would change the ```go block to:\n%s", b.line, formatted)
		}
	}
}

// goBlocks returns the ```go blocks of the Markdown text md, also those
// indented in a list.
func goBlocks(md string) []goBlock {
	var blocks []goBlock
	lines := strings.Split(md, "\n")
	for i := 0; i < len(lines); i++ {
		indent, ok := strings.CutSuffix(lines[i], "```go")
		if !ok || strings.TrimSpace(indent) != "" {
			continue
		}
		b := goBlock{line: i + 1}
		var text strings.Builder
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			text.WriteString(strings.TrimPrefix(lines[i], indent) + "\n")
		}
		b.text = text.String()
		blocks = append(blocks, b)
	}
	return blocks
}

// snippetModule writes a module into a temporary directory that requires
// the repository's modules (replaced by their directories under repo) and,
// at the versions the workspace builds with, every other module in the
// example's module graph, so that a snippet's imports resolve without asking
// for a newer version; its go.sum is the repository's go.sum files together.
func snippetModule(t *testing.T, repo string) string {
	t.Helper()
	dir := t.TempDir()
	list, err := exec.CommandContext(t.Context(), "go", "list", "-m",
		"-f", "{{.Path}}\t{{.Version}}\t{{.Main}}\t{{.GoVersion}}", "all").Output()
	if err != nil {
		t.Fatalf("go list -m all: %v", err)
	}
	var requires, goVersion string
	for line := range strings.Lines(string(list)) {
		f := strings.Split(strings.TrimRight(line, "\r\n"), "\t") // path, version, main, go
		if len(f) != 4 {
			t.Fatalf("go list -m all: unexpected line %q", line)
		}
		switch {
		case f[0] == "github.com/pbxauth/pbxauth":
			goVersion = f[3]
		case readmeModules[f[0]] != "" || f[2] == "true" || f[1] == "":
			// the repository's own, required below; or a main module
		default:
			requires += "\t" + f[0] + " " + f[1] + "\n"
		}
	}
	if goVersion == "" {
		t.Fatalf("go list -m all does not list github.com/pbxauth/pbxauth with its go version:\n%s", list)
	}
	var mod, sum bytes.Buffer
	fmt.Fprintf(&mod, "module example.com/readme\n\ngo %s\n\nrequire (\n%s", goVersion, requires)
	mod.WriteString(")\n")
	for path, rel := range readmeModules {
		fmt.Fprintf(&mod, "\nrequire %s v0.0.0\n\nreplace %s => %s\n", path, path, filepath.Join(repo, rel))
		if _, err := os.Stat(filepath.Join(repo, rel, "go.mod")); err != nil {
			t.Fatalf("%s is to be a module of its own: %v", path, err)
		}
	}
	sums, _ := filepath.Glob(filepath.Join(repo, "*", "go.sum"))
	more, _ := filepath.Glob(filepath.Join(repo, "*", "*", "go.sum"))
	for _, f := range append(append(sums, more...), filepath.Join(repo, "go.sum"), filepath.Join(repo, "go.work.sum")) {
		if b, err := os.ReadFile(f); err == nil {
			sum.Write(b)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), mod.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// goIn runs the go command in dir, outside any workspace; modules missing
// from the go.sum come through the environment's proxy without asking the
// checksum database (the build is looked at, never shipped).
func goIn(t *testing.T, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(t.Context(), "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "GOSUMDB=off")
	return cmd.CombinedOutput()
}
