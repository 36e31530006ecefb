// This file measures the example server from outside, as an operator runs
// it (only with -only example): GET /api/auth/user over keep-alive
// connections against the example with its request log, the same build
// with -request-log=false, and a bare handler answering the same body to
// the same request (the same bearer token, unread) in a process of its own
// with the example's server bounds, in alternating order. The examples' logs go to files, as a service's log would, not
// through this process.

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// bareEnv makes this program serve the bare handler instead (serveBare).
const bareEnv = "PBXAUTH_LOAD_BARE"

// serveBare serves the bare handler at GET /api/auth/user on a free
// loopback port with the example's server bounds, prints the example's
// listening line and serves until SIGTERM.
func serveBare(ctx context.Context) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/auth/user", bare)
	// The example's bounds (example/main.go), so that the servers differ
	// by what the example does per request only.
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	fmt.Printf("listening on http://%s\n", ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// logTarget is one server of the measurement and what it was sent.
type logTarget struct {
	name    string
	c       *child
	token   string
	samples []*sample
	cpu     []time.Duration // the server process's CPU time per request, per round
}

// logCostResult holds every round of the three targets.
type logCostResult struct {
	requests, conns int
	targets         []*logTarget // bare, with the request log, without
}

// logCost runs the measurement with the example built at bin.
func logCost(ctx context.Context, o options, bin string) (*logCostResult, error) {
	dir, err := os.MkdirTemp("", "pbxauth-logcost-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self)
	cmd.Env = append(os.Environ(), bareEnv+"=1")
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	bareChild := &child{cmd: cmd, stderr: &tail{max: 8 << 10}}
	cmd.Stderr = bareChild.stderr
	if err := bareChild.start(ctx); err != nil {
		return nil, err
	}
	defer bareChild.stop()
	res := &logCostResult{requests: o.requests, conns: o.conns, targets: []*logTarget{{name: "bare handler", c: bareChild}}}
	for _, v := range []struct{ name, flag, log string }{
		{"example, request log on", "-request-log=true", "on.log"},
		{"example, request log off", "-request-log=false", "off.log"},
	} {
		pw := "load-admin-pw-" + store.NewID()
		f, err := os.Create(filepath.Join(dir, v.log))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		cmd := exampleCmd(ctx, bin, pw, o.childMemLimit, "memory", v.flag)
		c := &child{cmd: cmd, stderr: &tail{max: 8 << 10}}
		cmd.Stderr = f // straight to the file: nothing of this process in the way
		if err := c.start(ctx); err != nil {
			return nil, err
		}
		defer c.stop()
		res.targets = append(res.targets, &logTarget{name: v.name, c: c, token: pw})
	}

	tr := &http.Transport{MaxIdleConns: 3 * o.conns, MaxIdleConnsPerHost: o.conns, MaxConnsPerHost: o.conns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var targets []target
	for _, lt := range res.targets {
		if lt.token != "" {
			if lt.token, err = signIn(ctx, client, lt.c.url+"/api", "admin", lt.token); err != nil {
				return nil, err
			}
		}
		targets = append(targets, target{lt.name, lt.c.url + "/api/auth/user", lt.token})
	}
	// The bare handler is sent the same request, Authorization header and
	// all, which it ignores: the servers then differ by what they do with a
	// request, not by what the request carries (a header line more to read
	// for the examples, a header less to build for the client).
	targets[0].token = targets[1].token
	if err := sameAnswers(ctx, client, targets[:2]); err != nil {
		return nil, err
	}
	if err := sameAnswers(ctx, client, targets[1:]); err != nil {
		return nil, err
	}
	for _, t := range targets { // open every connection, warm every server
		if _, err := drive(ctx, client, t, 10*o.conns, o.conns); err != nil {
			return nil, err
		}
	}
	for round := range o.rounds {
		for k := range targets {
			i := (round + k) % len(targets) // each target first in turn
			lt := res.targets[i]
			before, err := procCPU(lt.c.cmd.Process.Pid)
			if err != nil {
				return nil, err
			}
			s, err := drive(ctx, client, targets[i], o.requests, o.conns)
			if err != nil {
				return nil, err
			}
			after, err := procCPU(lt.c.cmd.Process.Pid)
			if err != nil {
				return nil, err
			}
			lt.samples = append(lt.samples, s)
			lt.cpu = append(lt.cpu, (after-before)/time.Duration(o.requests))
		}
	}
	return res, nil
}

// procCPU is the CPU time process pid has used, user and system, from
// /proc/PID/stat (in clock ticks of 10 ms).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command name, which is in parentheses: state
	// is the third field of the line, utime the 14th and stime the 15th.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	var ticks int64
	for _, v := range f[11:13] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}

// ratio is the median over rounds of target i's rate over the bare
// handler's in the same round.
func (r *logCostResult) ratio(i int) float64 {
	var rs []float64
	for k, s := range r.targets[i].samples {
		rs = append(rs, s.perSecond()/r.targets[0].samples[k].perSecond())
	}
	return median(rs)
}

func (r *logCostResult) print(w io.Writer) {
	fmt.Fprintf(w, "The example's request log: GET /api/auth/user over %d connections, %d requests per target in each of %d rounds\n",
		r.conns, r.requests, len(r.targets[0].samples))
	fmt.Fprintf(w, "(three processes besides this one; server CPU/req from /proc, in 10 ms ticks)\n")
	for i, lt := range r.targets {
		s := summarize(lt.name, lt.samples)
		fmt.Fprintf(w, "  %-26s %8.0f req/s  p50 %-9s p99 %-9s server CPU/req %-9s [%s]  rounds: %s",
			s.name, s.rate, ms(s.p50), ms(s.p99), us(medianDuration(lt.cpu)), statusText(s.statuses), rates(s.rates))
		if i > 0 {
			fmt.Fprintf(w, "  / bare: %.0f%%", 100*r.ratio(i))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "  with the request log: %.0f%% of the bare handler (goal ≥ 90%%: %s); without it: %.0f%%\n\n",
		100*r.ratio(1), verdict(r.ratio(1) >= 0.9), 100*r.ratio(2))
}

func (r *logCostResult) printMarkdown(w io.Writer) {
	fmt.Fprintf(w, "The example's request log, GET /api/auth/user, %d connections, %d requests × %d rounds per target:\n\n",
		r.conns, r.requests, len(r.targets[0].samples))
	fmt.Fprintln(w, "| target | req/s (median) | / bare (median of rounds) | p50 | p99 | server CPU/req | rounds (req/s) |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---|")
	for i, lt := range r.targets {
		s := summarize(lt.name, lt.samples)
		share := ""
		if i > 0 {
			share = fmt.Sprintf("%.0f%%", 100*r.ratio(i))
		}
		fmt.Fprintf(w, "| %s | %.0f | %s | %s | %s | %s | %s |\n", s.name, s.rate, share, ms(s.p50), ms(s.p99), us(medianDuration(lt.cpu)), rates(s.rates))
	}
	fmt.Fprintf(w, "\nGoal: with the request log ≥ 90%% of the bare handler: %s.\n\n", verdict(r.ratio(1) >= 0.9))
}

func medianDuration(ds []time.Duration) time.Duration {
	var xs []float64
	for _, d := range ds {
		xs = append(xs, float64(d))
	}
	return time.Duration(median(xs))
}
