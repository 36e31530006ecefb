// Command load drives pbxauth over loopback connections and prints what it
// measured, each figure beside its baseline from the same run:
//
//   - throughput: GET /auth/user at 64 concurrent connections against an
//     in-process server on the memory store, beside a bare handler that
//     answers the same JSON without authentication;
//   - burst safety: the example server, built and started as a child
//     process, takes 1,000 concurrent sign-ins with wrong passwords while a
//     signed-in user keeps calling GET /auth/user; the child's peak RSS, the
//     statuses of the sign-ins and the bearer latency are reported. The
//     wave is sent from one loopback address and then from several (the
//     server limits failures per client address); a paced scenario, a few
//     sign-ins at a time, shows that per-address limit taking over;
//   - known devices: while 200 attacking loopback addresses keep hashing
//     saturated with wrong sign-ins, a user signs in again and again through
//     devices they signed in from before, and then (against a fresh server)
//     without device cookies; success rate and latency of both;
//   - the example's request log (only with -only example): GET
//     /api/auth/user at 64 connections against the example server with its
//     request log and without it, and a bare handler answering the same
//     body in a process of its own, alternating;
//   - passkeys (only with -only passkey): the example server's admin signs
//     in with a passkey again and again, at rest and while 200 attacking
//     loopback addresses spray wrong passwords (as for known devices);
//     the share served and the latency of both;
//   - refusals (only with -only flood): the example server on SQLite, while
//     one loopback address floods POST /auth/forget_password far over its
//     limit at a fixed rate, signs a user in again and again; the sign-ins'
//     latency at rest and under the flood, for this tree and, with
//     -flood-before REV, for the example built from that git revision.
//
// Usage (from the module):
//
//	go run ./bench/load [-n 100000] [-c 64] [-burst 1000] [-markdown]   # -h lists every flag
//
// Every part is bounded by a count and by -timeout; the tool talks to
// 127.0.0.1 only and stops its child process before it exits.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if os.Getenv(bareEnv) == "1" { // a child of -only example
		if err := serveBare(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "load: bare server:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// options are the tool's flags.
type options struct {
	requests, conns, rounds int
	burst, addrs            int
	paced, pacedConns       int
	deviceAttackers         int
	deviceSignIns           int
	passkeySignIns          int
	only                    string
	example, childLog       string
	childMemLimit           string
	timeout                 time.Duration
	markdown                bool
	pg                      string
	cpuProfile              string
	floodRate, floodSignIns int
	floodRounds             int
	floodBefore             string
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.IntVar(&o.requests, "n", 100_000, "throughput: requests per target per round")
	fs.IntVar(&o.conns, "c", 64, "throughput: concurrent connections")
	fs.IntVar(&o.rounds, "rounds", 3, "throughput and stores: rounds, alternating which target goes first")
	fs.IntVar(&o.burst, "burst", 1000, "burst: concurrent sign-ins with wrong passwords")
	fs.IntVar(&o.addrs, "addrs", 16, "burst: loopback source addresses of the spread scenario (127.0.0.1…)")
	fs.IntVar(&o.paced, "paced", 300, "burst: sign-ins of the paced scenario, which reaches the per-address limit (0 skips it)")
	fs.IntVar(&o.pacedConns, "paced-c", 8, "burst: sign-ins in flight at once in the paced scenario")
	fs.StringVar(&o.childMemLimit, "child-gomemlimit", "", "burst: GOMEMLIMIT of the example server (e.g. 80MiB); default: the environment's")
	fs.StringVar(&o.pg, "pg", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "stores: PostgreSQL database to make a schema in")
	fs.IntVar(&o.deviceAttackers, "device-attackers", 200, "device: attacking loopback addresses that keep hashing saturated (127.0.0.2…)")
	fs.IntVar(&o.deviceSignIns, "device-signins", 25, "device: the user's sign-ins during the attack, with and without device cookies (0 skips it)")
	fs.IntVar(&o.passkeySignIns, "passkey-signins", 100, "passkey: the admin's passkey sign-ins at rest, and again while -device-attackers addresses spray passwords")
	fs.IntVar(&o.floodRate, "flood-rate", 578, "flood: refused forget_password requests offered per second")
	fs.IntVar(&o.floodSignIns, "flood-signins", 30, "flood: the user's sign-ins at rest, and again during the flood")
	fs.IntVar(&o.floodRounds, "flood-rounds", 2, "flood: rounds, alternating which build goes first")
	fs.StringVar(&o.floodBefore, "flood-before", "", "flood: also measure the example built from this git revision (git archive, from the module's repository)")
	fs.StringVar(&o.only, "only", "", `run one part: "throughput", "burst", "device", or, only run when asked, "stores" (GET /auth/user on every store), "flood" (sign-ins under a flood of refused requests, SQLite) "example" (the example server with and without its request log, beside a bare handler) or "passkey" (passkey sign-ins under a password spray)`)
	fs.StringVar(&o.example, "example", "github.com/pbxauth/pbxauth/example", "package of the example server to build")
	fs.StringVar(&o.childLog, "child-log", "", "burst: append the example server's stderr to this file (try GODEBUG=gctrace=1)")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "stop everything after this long")
	fs.BoolVar(&o.markdown, "markdown", false, "also print the results as Markdown tables")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run (client and in-process servers) to this file")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case o.requests < 1 || o.conns < 1 || o.rounds < 1 || o.burst < 1 || o.paced < 0 || o.pacedConns < 1:
		return o, errors.New("-n, -c, -rounds, -burst and -paced-c must be positive")
	case o.addrs < 1 || o.addrs > 250:
		return o, errors.New("-addrs must be 1 to 250")
	case o.deviceAttackers < 1 || o.deviceAttackers > 249 || o.deviceSignIns < 0:
		return o, errors.New("-device-attackers must be 1 to 249, -device-signins not negative")
	case o.floodRate < 1 || o.floodSignIns < 1 || o.floodRounds < 1:
		return o, errors.New("-flood-rate, -flood-signins and -flood-rounds must be positive")
	case o.passkeySignIns < 1:
		return o, errors.New("-passkey-signins must be positive")
	case o.only != "" && o.only != "throughput" && o.only != "burst" && o.only != "device" && o.only != "stores" && o.only != "flood" && o.only != "example" && o.only != "passkey":
		return o, fmt.Errorf("-only %q: want throughput, burst, device, stores, flood, example or passkey", o.only)
	}
	return o, nil
}

func run(ctx context.Context, args []string, out io.Writer) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	r := &report{machine: describeMachine()}
	r.printMachine(out)
	if o.only == "stores" {
		runs, err := storeThroughput(ctx, o)
		if err != nil {
			return fmt.Errorf("stores: %w", err)
		}
		printStores(out, runs, o)
		return nil
	}
	if o.only == "" || o.only == "throughput" {
		t, err := throughput(ctx, o, nil)
		if err != nil {
			return fmt.Errorf("throughput: %w", err)
		}
		r.throughput = t
		t.print(out)
	}
	if o.only == "throughput" {
		return r.finish(o, out)
	}
	bin, log, cleanup, err := childBinary(ctx, o)
	if err != nil {
		return err
	}
	defer cleanup()
	if o.only == "example" {
		lc, err := logCost(ctx, o, bin)
		if err != nil {
			return fmt.Errorf("example: %w", err)
		}
		lc.print(out)
		r.logCost = lc
		return r.finish(o, out)
	}
	if o.only == "passkey" {
		if _, err := passkeyChild(ctx, o, bin, log, out); err != nil {
			return fmt.Errorf("passkey: %w", err)
		}
		return nil
	}
	if o.only == "flood" {
		fs, err := floodChildren(ctx, o, bin, log, out)
		if err != nil {
			return fmt.Errorf("flood: %w", err)
		}
		r.floods = fs
		return r.finish(o, out)
	}
	if o.only == "" || o.only == "burst" {
		bs, err := burstChildren(ctx, o, bin, log, out)
		if err != nil {
			return fmt.Errorf("burst: %w", err)
		}
		r.bursts = bs
	}
	if (o.only == "" || o.only == "device") && o.deviceSignIns > 0 {
		ds, err := deviceChildren(ctx, o, bin, log, out)
		if err != nil {
			return fmt.Errorf("device: %w", err)
		}
		r.devices = ds
	}
	return r.finish(o, out)
}

// finish prints the Markdown tables when asked to.
func (r *report) finish(o options, out io.Writer) error {
	if o.markdown {
		r.printMarkdown(out)
	}
	return nil
}
