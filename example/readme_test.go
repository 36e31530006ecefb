// The README's walk-throughs, executed: every ```sh block that begins with
// "# walk-through:" runs in bash against a fresh example server (the real
// program as a child process, memory store, a free port), with API pointing
// at it and LOG at the file its log (and so its mails) goes to. A block's
// "# server flags: ..." line gives the server's flags instead of -db memory.

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var (
	shBlock     = regexp.MustCompile("(?s)```sh\n(# walk-through: [^\n]*)\n(.*?)```")
	serverFlags = regexp.MustCompile(`(?m)^# server flags: (.*)$`)
)

func TestREADMEWalkThroughs(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := shBlock.FindAllStringSubmatch(string(readme), -1)
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
