package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
)

// cheap makes hashing fast; these tests check that the tool works, they
// measure nothing.
func cheap(c *pbxauth.Config) {
	c.Argon2 = pbxauth.Argon2Params{Memory: 64, Time: 1, Threads: 1}
	c.Logger = slog.New(slog.DiscardHandler)
}

// TestMain serves the bare handler when a logCost starts this test binary
// as its child, as the tool does with itself.
func TestMain(m *testing.M) {
	if os.Getenv(bareEnv) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		defer stop()
		if err := serveBare(ctx); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestThroughputSmoke(t *testing.T) {
	o := options{requests: 50, conns: 4, rounds: 2}
	res, err := throughput(context.Background(), o, cheap)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range append(res.bare, res.auth...) {
		if s.statuses[200] != o.requests {
			t.Errorf("statuses %v, want 200×%d", s.statuses, o.requests)
		}
	}
	res.print(io.Discard)
	(&report{throughput: res}).printMarkdown(io.Discard)
}

func TestBurstSmoke(t *testing.T) {
	ctx := context.Background()
	c := pbxauth.Config{MaxConcurrentHashes: 1, HashQueue: 1}
	cheap(&c)
	srv, err := startServer(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	sc := burstScenario{name: "smoke", requests: 40, concurrency: 20, addrs: 2}
	res, err := burst(ctx, burstTarget{api: srv.url + "/api", pid: os.Getpid(), user: srv.user, pw: srv.pw}, sc)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range res.statuses {
		n += v
	}
	if n != sc.requests || !res.onlyExpected() {
		t.Errorf("statuses %v, want %d of 401, 429 or 503", res.statuses, sc.requests)
	}
	if !res.bearerServed() && len(res.during.lat) > 0 {
		t.Errorf("bearer statuses during the burst: %v", res.during.statuses)
	}
	if res.hwmAfter <= 0 {
		t.Errorf("peak RSS %d", res.hwmAfter)
	}
	res.print(io.Discard)
	(&report{bursts: []*burstResult{res}}).printMarkdown(io.Discard)
}

func TestFlags(t *testing.T) {
	if _, err := parseFlags(nil); err != nil {
		t.Errorf("defaults: %v", err)
	}
	for _, args := range [][]string{{"-n", "0"}, {"-c", "-1"}, {"-addrs", "0"}, {"-addrs", "251"}, {"-only", "both"}, {"-paced-c", "0"},
		{"-flood-rate", "0"}, {"-flood-signins", "0"}, {"-flood-rounds", "0"}, {"-only", "examples"}, {"-passkey-signins", "0"}} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

func TestDeviceSmoke(t *testing.T) {
	ctx := context.Background()
	c := pbxauth.Config{MaxConcurrentHashes: 2, HashQueue: 2, InsecureCookies: true}
	cheap(&c)
	srv, err := startServer(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	var results []*deviceResult
	for _, sc := range deviceScenarios(options{deviceAttackers: 4, deviceSignIns: 3}) {
		sc.pace, sc.warmup = time.Millisecond, 0
		res, err := deviceRun(ctx, burstTarget{api: srv.url + "/api", user: srv.user, pw: srv.pw}, sc)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.user.lat) != 3 || len(res.attack) == 0 {
			t.Errorf("cookie %v: user %v, attack %v", sc.cookie, res.user.statuses, res.attack)
		}
		res.print(io.Discard)
		results = append(results, res)
	}
	(&report{devices: results}).printMarkdown(io.Discard)
}

func TestFloodSmoke(t *testing.T) {
	ctx := context.Background()
	c := pbxauth.Config{}
	cheap(&c)
	srv, err := startServer(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	sc := floodScenario{rate: 200, conns: 4, signIns: 3, warmup: 300 * time.Millisecond}
	res, err := floodRun(ctx, burstTarget{api: srv.url + "/api", user: srv.user, pw: srv.pw}, sc)
	if err != nil {
		t.Fatal(err)
	}
	if res.idle.statuses[200] != 3 || res.during.statuses[200] != 3 {
		t.Errorf("the user's sign-ins: at rest %v, during %v", res.idle.statuses, res.during.statuses)
	}
	// The first 20 are within the limit (400: the callback_url is not
	// allowed here); the rest are refused.
	if res.flood[429] == 0 || res.flood[400] != 20 || len(res.flood) != 2 || res.offered == 0 {
		t.Errorf("flood statuses %v of %d offered", res.flood, res.offered)
	}
	res.build = "smoke"
	res.print(io.Discard, sc)
	(&report{floods: []*floodResult{res}}).printMarkdown(io.Discard)
}

func TestLogCostSmoke(t *testing.T) {
	ctx := context.Background()
	o := options{requests: 50, conns: 4, rounds: 2, example: "github.com/pbxauth/pbxauth/example"}
	bin, _, cleanup, err := childBinary(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	res, err := logCost(ctx, o, bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, lt := range res.targets {
		if len(lt.samples) != o.rounds {
			t.Fatalf("%s: %d rounds", lt.name, len(lt.samples))
		}
		for _, s := range lt.samples {
			if s.statuses[200] != o.requests {
				t.Errorf("%s: statuses %v, want 200×%d", lt.name, s.statuses, o.requests)
			}
		}
	}
	res.print(io.Discard)
	(&report{logCost: res}).printMarkdown(io.Discard)
}

// TestPasskeySmoke: the passkey run registers a passkey and signs in with
// it, at rest and under a small spray that keeps one hashing slot busy.
func TestPasskeySmoke(t *testing.T) {
	ctx := context.Background()
	c := pbxauth.Config{MaxConcurrentHashes: 1, HashQueue: 1, PublicURL: "http://localhost/api", EncryptionKeys: [][]byte{make([]byte, 32)}}
	cheap(&c)
	srv, err := startServer(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	res, err := passkeyRun(ctx, burstTarget{api: srv.url + "/api", user: srv.user, pw: srv.pw}, "http://localhost", options{deviceAttackers: 4, passkeySignIns: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*sample{res.rest, res.attack} {
		if s.statuses[200] != 3 {
			t.Errorf("passkey sign-ins: %v, want 200×3", s.statuses)
		}
	}
	if len(res.spray) == 0 {
		t.Error("no spray")
	}
	res.print(io.Discard, true)
}
