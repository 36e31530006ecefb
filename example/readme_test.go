// The README's walk-throughs, executed: every ```sh block that begins with
// "# walk-through:" runs in bash against a fresh example server (the real
// program as a child process, memory store, a free port), with API pointing
// at it and LOG at the file its log (and so its mails) goes to. A block
// that uses oathtool (the authenticator app's stand-in) is skipped without
// it, except under CI=true, where it fails.

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var shBlock = regexp.MustCompile("(?s)```sh\n(# walk-through: [^\n]*)\n(.*?)```")

func TestREADMEWalkThroughs(t *testing.T) {
	blocks := shBlock.FindAllStringSubmatch(readREADME(t), -1)
	if len(blocks) < 3 {
		t.Fatalf("the README has %d walk-throughs, want at least 3", len(blocks))
	}
	for _, tool := range []string{"bash", "curl", "jq"} {
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
			c := startChildTee(t, freePort(t), logFile, "-db", "memory")
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
