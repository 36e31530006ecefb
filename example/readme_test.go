// The README's walk-throughs, executed: every ```sh block that begins with
// "# walk-through:" runs in bash against a fresh example server (memory
// store, free port), with API pointing at it.

package main

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

var shBlock = regexp.MustCompile("(?s)```sh\n(# walk-through: [^\n]*)\n(.*?)```")

func TestREADMEWalkThroughs(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := shBlock.FindAllStringSubmatch(string(readme), -1)
	if len(blocks) == 0 {
		t.Fatal("the README has no walk-through")
	}
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the walk-throughs need %s: %v", tool, err)
		}
	}
	for _, b := range blocks {
		name := strings.TrimPrefix(b[1], "# walk-through: ")
		t.Run(name, func(t *testing.T) {
			base := startExample(t, map[string]string{"PBXAUTH_ADMIN_PASSWORD": "admin-pw-12345"})
			var script strings.Builder
			script.WriteString("set -euo pipefail\n")
			for _, line := range strings.Split(b[2], "\n") {
				if strings.HasPrefix(line, "API=") {
					line = "API=" + base + "/api" // the test's server, on its free port
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
