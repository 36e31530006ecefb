// This file holds the fault tests of the example server as a child
// process: killed or stopped with a reset mail pending while the mail
// server is down, stopped with requests in flight, and fed a body byte by
// byte. Each is bounded and uses loopback only.

package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/internal/smtptest"
)

// forgetBob asks for a reset mail for the demo seed's bob.
func forgetBob(t *testing.T, c *apitest.Client) {
	t.Helper()
	r := c.Do("POST", "/auth/forget_password", map[string]string{
		"domain": "acme.example.test", "username": "bob", "callback_url": "http://127.0.0.1:9999/reset"})
	if r.Status != 200 {
		t.Fatalf("forget_password: %d %s", r.Status, r.Body)
	}
}

var tokenRE = regexp.MustCompile(`token=([A-Za-z0-9_-]+)`)

// TestFaultResetMailSurvivesStopAndKill: with the mail server down, a reset
// mail accepted before SIGTERM (exit 0) and one accepted before SIGKILL
// stay in the outbox; once the server is back, a restarted example sends
// them, and the link works.
func TestFaultResetMailSurvivesStopAndKill(t *testing.T) {
	t.Parallel()
	mailer := smtptest.Start(t, smtptest.Options{})
	mailer.Stop()
	port := freePort(t)
	args := []string{"-db", "sqlite:" + filepath.Join(t.TempDir(), "pbxauth.db"), "-smtp", mailer.Addr}
	const failed = "reset mail failed, will retry"

	first := startChild(t, port, args...)
	forgetBob(t, apitest.NewClient(t, first.url))
	first.waitLog(t, failed, 1)
	if code := first.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("exit code after SIGTERM: %d\n%s", code, first.log())
	}

	second := startChild(t, port, args...)
	forgetBob(t, apitest.NewClient(t, second.url))
	second.waitLog(t, failed, 1)
	second.stop(t, syscall.SIGKILL)

	mailer.Restart(t)
	third := startChild(t, port, args...)
	var m smtptest.Message
	select {
	case m = <-mailer.Messages:
	case <-time.After(childTimeout):
		t.Fatalf("no reset mail arrived after the restart:\n%s", third.log())
	}
	tok := tokenRE.FindStringSubmatch(m.Text)
	if len(m.To) != 1 || m.To[0] != "bob@acme.example.test" || tok == nil {
		t.Fatalf("reset mail: %+v", m)
	}
	c := apitest.NewClient(t, third.url)
	if r := c.Do("POST", "/auth/reset_password", map[string]string{"token": tok[1], "new_password": "bob-new-pw-5678"}); r.Status != 200 {
		t.Fatalf("reset with the mailed link: %d %s", r.Status, r.Body)
	}
	if r := c.Do("POST", "/auth/sign_in", map[string]string{"username": "bob", "password": "bob-new-pw-5678", "domain": "acme.example.test"}); r.Status != 200 {
		t.Fatalf("sign_in with the new password: %d %s", r.Status, r.Body)
	}
}

// TestFaultSIGTERMAnswersInFlight: requests whose handlers are running when
// SIGTERM arrives, and requests of clients that connected just before it,
// are answered, and the example exits 0.
func TestFaultSIGTERMAnswersInFlight(t *testing.T) {
	t.Parallel()
	c := startChild(t, freePort(t), "-db", "memory")
	host := strings.TrimPrefix(c.url, "http://")
	body := `{"username":"bob","password":"bob-pw-1234","domain":"acme.example.test"}`
	const n = 5
	conns := make([]net.Conn, n)
	readers := make([]*bufio.Reader, n)
	for i := range n {
		conn := dialChild(t, host)
		// With Expect: 100-continue, "100 Continue" comes only once the
		// handler reads the body: then the request is surely in flight.
		fmt.Fprintf(conn, "POST /api/auth/sign_in HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", host, len(body))
		conns[i], readers[i] = conn, bufio.NewReader(conn)
		line, err := readers[i].ReadString('\n')
		if err != nil || !strings.Contains(line, "100") {
			t.Fatalf("waiting for 100 Continue: %q %v", line, err)
		}
		readers[i].ReadString('\n') // the blank line after it
	}
	// And clients that connected just before the signal, whose
	// connections may still wait in the accept backlog.
	late := make([]net.Conn, n)
	for i := range n {
		conn := dialChild(t, host)
		fmt.Fprintf(conn, "POST /api/auth/sign_in HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", host, len(body), body)
		late[i] = conn
	}
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for i, conn := range late {
		readSignIn(t, bufio.NewReader(conn), host, body, fmt.Sprintf("request %d sent just before SIGTERM", i))
	}
	for i, conn := range conns {
		if _, err := io.WriteString(conn, body); err != nil {
			t.Fatalf("request %d: writing the body after SIGTERM: %v", i, err)
		}
		readSignIn(t, readers[i], host, body, fmt.Sprintf("request %d in flight at SIGTERM", i))
	}
	if code := c.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("exit code after SIGTERM: %d\n%s", code, c.log())
	}
}

// dialChild connects to the child, closing the connection when the test
// ends; every read and write on it ends within childTimeout.
func dialChild(t *testing.T, host string) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", host, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(childTimeout))
	return conn
}

// readSignIn reads the answer to a sign-in sent by hand on r's connection;
// it must be a 200 that validates.
func readSignIn(t *testing.T, r *bufio.Reader, host, body, what string) {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+host+apitest.Prefix+"/auth/sign_in", strings.NewReader(body))
	resp, err := http.ReadResponse(r, req)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := apitest.Validate(req, resp.StatusCode, resp.Header, b); err != nil || resp.StatusCode != 200 {
		t.Errorf("%s: %d %s %v", what, resp.StatusCode, b, err)
	}
}

// TestFaultSlowBodyClosed: a client that sends its body a byte at a time
// loses its connection at the read timeout instead of holding it.
func TestFaultSlowBodyClosed(t *testing.T) {
	t.Parallel()
	c := startChild(t, freePort(t), "-db", "memory")
	host := strings.TrimPrefix(c.url, "http://")
	conn := dialChild(t, host)
	start := time.Now()
	fmt.Fprintf(conn, "POST /api/auth/sign_in HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{", host)
	closed := make(chan struct{})
	go func() {
		io.Copy(io.Discard, conn) // returns when the server closes
		close(closed)
	}()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-closed:
			if d := time.Since(start); d < readTimeout-time.Second {
				t.Fatalf("closed after %v, before the read timeout", d)
			}
			return
		case <-tick.C:
			if time.Since(start) > readTimeout+writeTimeout {
				t.Fatal("a slow body kept its connection past the read timeout")
			}
			conn.Write([]byte(" ")) // one byte a second: never done
		}
	}
}
