// This file builds the example server and runs it as a child process on a
// free loopback port, with the in-memory store and a known admin password.

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// buildExample builds pkg into dir and returns the binary's path.
func buildExample(ctx context.Context, pkg, dir string) (string, error) {
	bin := filepath.Join(dir, "example")
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin, nil
}

// child is a running example server.
type child struct {
	cmd    *exec.Cmd
	url    string // http://127.0.0.1:PORT
	stderr *tail
}

// startChild runs bin on 127.0.0.1:0 with the store db (its -db: "memory",
// "sqlite:PATH"), the demo seed and the flags args, the system admin's
// password being adminPW, and waits for its listening line. memLimit, when
// set, is the child's GOMEMLIMIT; log, when not nil, gets a copy of its
// stderr.
func startChild(ctx context.Context, bin, adminPW, memLimit string, log io.Writer, db string, args ...string) (*child, error) {
	cmd := exampleCmd(ctx, bin, adminPW, memLimit, db, args...)
	c := &child{cmd: cmd, stderr: &tail{max: 8 << 10}}
	cmd.Stderr = c.stderr
	if log != nil {
		cmd.Stderr = io.MultiWriter(c.stderr, log)
	}
	return c, c.start(ctx)
}

// exampleCmd is the command of startChild, not started.
func exampleCmd(ctx context.Context, bin, adminPW, memLimit, db string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, bin, append([]string{"-addr", "127.0.0.1:0", "-db", db}, args...)...)
	cmd.Env = append(os.Environ(), "PBXAUTH_ADMIN_PASSWORD="+adminPW, "PBXAUTH_SEED=")
	if memLimit != "" {
		cmd.Env = append(cmd.Env, "GOMEMLIMIT="+memLimit)
	}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// start starts c.cmd, whose Stderr is set, and waits for the line
// "listening on http://127.0.0.1:PORT" on its stdout.
func (c *child) start(ctx context.Context) error {
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := c.cmd.Start(); err != nil {
		return err
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if url, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				urls <- url
			}
		}
		close(urls)
		io.Copy(io.Discard, stdout)
	}()
	select {
	case url, ok := <-urls:
		if ok && strings.HasPrefix(url, "http://127.0.0.1:") {
			c.url = url
			return nil
		}
		c.stop()
		return fmt.Errorf("%s did not listen on loopback (%q); stderr:\n%s", c.cmd.Path, url, c.stderr)
	case <-time.After(60 * time.Second):
		c.stop()
		return fmt.Errorf("%s printed no listening line within a minute", c.cmd.Path)
	case <-ctx.Done():
		c.stop()
		return ctx.Err()
	}
}

// stop ends the child with SIGTERM and waits for it.
func (c *child) stop() error {
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		c.cmd.Process.Kill()
	}
	err := c.cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return fmt.Errorf("example: %v; stderr:\n%s", err, c.stderr)
	}
	return err
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// childBinary builds the example into a temporary directory and opens the
// -child-log file, if any; cleanup removes and closes both.
func childBinary(ctx context.Context, o options) (bin string, log io.Writer, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "pbxauth-load-")
	if err != nil {
		return "", nil, nil, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	if bin, err = buildExample(ctx, o.example, dir); err != nil {
		cleanup()
		return "", nil, nil, err
	}
	if o.childLog != "" {
		f, err := os.OpenFile(o.childLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			cleanup()
			return "", nil, nil, err
		}
		cleanup = func() { f.Close(); os.RemoveAll(dir) }
		log = f
	}
	return bin, log, cleanup, nil
}

// burstChildren runs every burst scenario against a fresh child built from
// bin, printing each result as it comes.
func burstChildren(ctx context.Context, o options, bin string, log io.Writer, out io.Writer) ([]*burstResult, error) {
	var results []*burstResult
	for _, sc := range scenarios(o) {
		pw := "load-admin-pw-" + store.NewID()
		c, err := startChild(ctx, bin, pw, o.childMemLimit, log, "memory")
		if err != nil {
			return nil, err
		}
		r, err := burst(ctx, burstTarget{api: c.url + "/api", pid: c.cmd.Process.Pid, user: "admin", pw: pw}, sc)
		err = errors.Join(err, c.stop())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sc.name, err)
		}
		r.print(out)
		results = append(results, r)
	}
	return results, nil
}
