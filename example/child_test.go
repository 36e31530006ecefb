// This file runs the example server as a child process, for the fault
// tests: the test binary runs main when PBXAUTH_EXAMPLE_CHILD is set, so the
// child is the real program, with its real signal handling and exit codes.

package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const childEnv = "PBXAUTH_EXAMPLE_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		main() // exits 1 itself on an error
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// childTimeout bounds every wait on a child.
const childTimeout = 90 * time.Second

// child is a running example server.
type child struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}

	mu     sync.Mutex
	stderr bytes.Buffer
	tee    io.Writer // when not nil, also gets the log
}

// startChild starts the example with args (plus -addr 127.0.0.1:port, and
// the demo seed with admin password) and waits for its listening line. It is
// killed at the end of the test if still running.
func startChild(t *testing.T, port int, args ...string) *child {
	t.Helper()
	return startChildTee(t, port, nil, args...)
}

// startChildTee is startChild with the child's log also written to tee.
func startChildTee(t *testing.T, port int, tee io.Writer, args ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-addr", "127.0.0.1:" + strconv.Itoa(port)}, args...)...)
	cmd.Env = append(os.Environ(), childEnv+"=1", "PBXAUTH_ADMIN_PASSWORD=admin-pw-12345")
	c := &child{cmd: cmd, done: make(chan struct{}), tee: tee}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = lockedWriter{c}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-c.done
		if t.Failed() {
			t.Logf("child stderr:\n%s", c.log())
		}
	})
	select {
	case u, ok := <-listening(stdout):
		if !ok {
			<-c.done
			t.Fatalf("the example ended before listening:\n%s", c.log())
		}
		c.url = u
	case <-time.After(childTimeout):
		t.Fatal("the example did not print its listening line")
	}
	return c
}

// listening sends the URL of each "listening on URL" line that r holds
// (at most 4 unread), and closes the channel at r's end.
func listening(r io.Reader) <-chan string {
	urls := make(chan string, 4)
	go func() {
		defer close(urls)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				urls <- u
			}
		}
		io.Copy(io.Discard, r)
	}()
	return urls
}

type lockedWriter struct{ c *child }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	if w.c.tee != nil {
		w.c.tee.Write(p)
	}
	return w.c.stderr.Write(p)
}

func (c *child) log() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stderr.String()
}

// waitLog waits until the child's log holds substr n times.
func (c *child) waitLog(t *testing.T, substr string, n int) {
	t.Helper()
	deadline := time.Now().Add(childTimeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for strings.Count(c.log(), substr) < n {
		if time.Now().After(deadline) {
			t.Fatalf("the child never logged %q %d times:\n%s", substr, n, c.log())
		}
		<-tick.C
	}
}

// stop sends sig and returns the exit code.
func (c *child) stop(t *testing.T, sig syscall.Signal) int {
	t.Helper()
	if err := c.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.done:
	case <-time.After(childTimeout):
		t.Fatalf("the child did not end after %v", sig)
	}
	if ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -int(ws.Signal())
	}
	return c.cmd.ProcessState.ExitCode()
}

// freePort returns a loopback port nobody listens on, so that a child can
// be restarted on the same address (the demo seed trusts its origin).
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
