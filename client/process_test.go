// Tests of FileTokens across OS processes: the test binary runs again as a
// helper (TestHelperProcess) sharing one token file with others.

package client_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth/client"
)

// The helper's environment: its role, the API's base and the token file.
const (
	envRole  = "PBXAUTH_CLIENT_HELPER"
	envBase  = "PBXAUTH_CLIENT_BASE"
	envFile  = "PBXAUTH_CLIENT_FILE"
	envCalls = "PBXAUTH_CLIENT_CALLS"
)

// TestHelperProcess is not a test: it is the other process of the tests
// below, and does nothing unless run as one.
func TestHelperProcess(t *testing.T) {
	role := os.Getenv(envRole)
	if role == "" {
		t.Skip("helper process")
	}
	err := helper(role)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

func helper(role string) error {
	ctx := context.Background()
	tokens := client.FileTokens(os.Getenv(envFile))
	switch role {
	case "hold":
		// Take the lock, say so, and keep it until killed.
		if _, err := tokens.Lock(ctx); err != nil {
			return err
		}
		fmt.Println("locked")
		io.Copy(io.Discard, os.Stdin)
		return errors.New("stdin closed")
	case "refresh":
		// Every token is due (RefreshBefore beyond its life): each call
		// refreshes the generation it finds in the file.
		c, err := client.New(client.Config{BaseURL: os.Getenv(envBase), Tokens: tokens, RefreshBefore: 2 * time.Hour})
		if err != nil {
			return err
		}
		n, _ := strconv.Atoi(os.Getenv(envCalls))
		for i := range n {
			if _, err := c.User(ctx); err != nil {
				return fmt.Errorf("call %d: %w", i, err)
			}
		}
		return nil
	}
	return fmt.Errorf("unknown role %q", role)
}

// helperCmd is the test binary run as a helper.
func helperCmd(t *testing.T, role, base, file string, calls int) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), envRole+"="+role, envBase+"="+base, envFile+"="+file, envCalls+"="+strconv.Itoa(calls))
	cmd.Stderr = os.Stderr
	return cmd
}

// Two processes sharing one FileTokens, each refreshing at every call:
// every generation is refreshed exactly once (the server, with no grace,
// would see a reuse and end the sign-in otherwise).
func TestFileTokensSharedByTwoProcesses(t *testing.T) {
	s := newServer(t, realClock)
	file := filepath.Join(t.TempDir(), "tokens.json")
	c := s.newClient(t, func(cfg *client.Config) { cfg.Tokens = client.FileTokens(file); cfg.Now = nil })
	signIn(t, c)

	const calls = 15
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for range 2 {
		cmd := helperCmd(t, "refresh", s.base(), file, calls)
		wg.Go(func() { errs <- cmd.Run() })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("helper: %v", err)
		}
	}
	if r, u := s.refreshes.Load(), s.reuses.Load(); r != 2*calls || u != 0 {
		t.Fatalf("%d refreshes and %d reuses, want %d and 0", r, u, 2*calls)
	}
	// The parent adopts the last generation from the file.
	if _, err := c.Refresh(context.Background()); err != nil {
		t.Fatalf("parent's Refresh: %v", err)
	}
	if u := s.reuses.Load(); u != 0 {
		t.Fatalf("the parent reused a token")
	}
}

// A process killed while holding the lock does not stop the others.
func TestFileTokensLockOfKilledProcessIsReleased(t *testing.T) {
	s := newServer(t, realClock)
	file := filepath.Join(t.TempDir(), "tokens.json")
	tokens := client.FileTokens(file)
	c := s.newClient(t, func(cfg *client.Config) { cfg.Tokens = tokens; cfg.Now = nil })
	signIn(t, c)

	cmd := helperCmd(t, "hold", "", file, 0)
	stdin, _ := cmd.StdinPipe()
	defer stdin.Close()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "locked\n" {
		cmd.Process.Kill()
		t.Fatalf("helper said %q, %v", line, err)
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tokens.Lock(done); !errors.Is(err, context.Canceled) {
		cmd.Process.Kill()
		t.Fatalf("Lock while the helper holds it: %v", err)
	}
	refreshed := make(chan error, 1)
	go func() {
		_, err := c.Refresh(context.Background())
		refreshed <- err
	}()
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if err := <-refreshed; err != nil {
		t.Fatalf("Refresh after the holder died: %v", err)
	}
	if s.refreshes.Load() != 1 {
		t.Fatalf("%d refreshes", s.refreshes.Load())
	}
}
