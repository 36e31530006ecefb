// This file measures what a flood of refused requests costs everyone else:
// while one loopback address sends POST /auth/forget_password at a fixed
// rate, far over its 20 flow starts a minute (so all but those are
// answered 429), a legitimate user signs in again and again, and the
// latency of those sign-ins is compared with the same sign-ins at rest.
// The example server runs on SQLite, which has one writer: whatever a
// refused request writes, a sign-in's writes queue behind. With
// -flood-before, the example is also built from that git revision (from
// before refusals stopped writing) and both builds are measured in the
// same run, in alternating order.

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// floodScenario is one measurement of sign-ins under a flood.
type floodScenario struct {
	rate    int           // refused requests offered per second
	conns   int           // the flood's connections
	signIns int           // the user's sign-ins at rest, and again during the flood
	warmup  time.Duration // of the flood before the user's first sign-in
}

// floodResult is what one scenario measured against one server.
type floodResult struct {
	build        string
	idle, during *sample     // the user's sign-ins
	flood        map[int]int // statuses of the flood's requests; 0 transport errors
	offered      int         // flood requests due at the rate
	dropped      int         // of those, not sent: every connection was busy
	floodTime    time.Duration
}

// floodRun signs t.user in sc.signIns times at rest, then starts the flood
// from 127.0.0.2, lets it run for sc.warmup, and signs the user in as many
// times again.
func floodRun(ctx context.Context, t burstTarget, sc floodScenario) (*floodResult, error) {
	mon := loopbackClient(0, 1)
	defer mon.Transport.(*http.Transport).CloseIdleConnections()
	res := &floodResult{flood: map[int]int{}}
	var err error
	if res.idle, err = signIns(ctx, mon, t, sc.signIns); err != nil {
		return nil, err
	}
	floodCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		res.offered, res.dropped, res.floodTime = flood(floodCtx, t.api, sc, res.flood)
	}()
	select {
	case <-time.After(sc.warmup):
	case <-ctx.Done():
	}
	res.during, err = signIns(ctx, mon, t, sc.signIns)
	stop()
	<-done
	if err == nil {
		err = ctx.Err()
	}
	return res, err
}

// signIns signs t.user in n times, one after another, and times each.
func signIns(ctx context.Context, c *http.Client, t burstTarget, n int) (*sample, error) {
	s := &sample{statuses: map[int]int{}}
	body, _ := json.Marshal(map[string]string{"username": t.user, "password": t.pw})
	began := time.Now()
	for range n {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.api+"/auth/sign_in", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		t0 := time.Now()
		status := get(c, req)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		s.lat = append(s.lat, time.Since(t0))
		s.statuses[status]++
	}
	s.elapsed = time.Since(began)
	return s, nil
}

// flood sends forget_password requests from 127.0.0.2 at sc.rate a second
// over sc.conns connections until ctx ends, and counts their statuses into
// statuses. A request that falls due while every connection is busy is
// dropped and counted, so the rate offered stays fixed.
func flood(ctx context.Context, api string, sc floodScenario, statuses map[int]int) (offered, dropped int, elapsed time.Duration) {
	c := loopbackClient(1, sc.conns)
	defer c.Transport.(*http.Transport).CloseIdleConnections()
	// An unknown user: an accepted request queues a mail the worker drops.
	body, _ := json.Marshal(map[string]string{"domain": "acme.example.test", "username": "nobody", "callback_url": "http://127.0.0.1/reset"})
	jobs := make(chan struct{}, sc.conns)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range sc.conns {
		wg.Go(func() {
			mine := map[int]int{}
			for range jobs {
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, api+"/auth/forget_password", bytes.NewReader(body))
				if err != nil {
					continue
				}
				req.Header.Set("Content-Type", "application/json")
				if status := get(c, req); ctx.Err() == nil {
					mine[status]++
				}
			}
			mu.Lock()
			for k, v := range mine {
				statuses[k] += v
			}
			mu.Unlock()
		})
	}
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	began := time.Now()
	for ctx.Err() == nil {
		select {
		case <-tick.C:
		case <-ctx.Done():
		}
		for due := int(time.Since(began).Seconds() * float64(sc.rate)); offered < due && ctx.Err() == nil; offered++ {
			select {
			case jobs <- struct{}{}:
			default:
				dropped++
			}
		}
	}
	elapsed = time.Since(began)
	close(jobs)
	wg.Wait()
	return offered, dropped, elapsed
}

// floodBuild is one build of the example server.
type floodBuild struct{ name, bin string }

// floodBuilds returns the example built from the module and, with
// -flood-before, from that revision too (extracted with git archive into
// dir, built with the same toolchain and module cache).
func floodBuilds(ctx context.Context, o options, bin, dir string) ([]floodBuild, error) {
	builds := []floodBuild{{name: "this tree", bin: bin}}
	if o.floodBefore == "" {
		return builds, nil
	}
	src := filepath.Join(dir, "before")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return nil, err
	}
	archive := exec.CommandContext(ctx, "git", "archive", "--format=tar", o.floodBefore)
	untar := exec.CommandContext(ctx, "tar", "-x", "-C", src)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		return nil, err
	}
	untar.Stdin = pipe
	var stderr bytes.Buffer
	archive.Stderr, untar.Stderr = &stderr, &stderr
	if err := untar.Start(); err != nil {
		return nil, err
	}
	if err := errors.Join(archive.Run(), untar.Wait()); err != nil {
		return nil, fmt.Errorf("git archive %s: %v\n%s", o.floodBefore, err, stderr.Bytes())
	}
	before := filepath.Join(dir, "example-before")
	build := exec.CommandContext(ctx, "go", "build", "-o", before, o.example)
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build %s at %s: %v\n%s", o.example, o.floodBefore, err, out)
	}
	return append([]floodBuild{{name: "before (" + o.floodBefore + ")", bin: before}}, builds...), nil
}

// floodChildren runs o.floodRounds rounds; each starts every build afresh
// on a new SQLite file, in turn, the order alternating from round to round.
func floodChildren(ctx context.Context, o options, bin string, log io.Writer, out io.Writer) ([]*floodResult, error) {
	dir, err := os.MkdirTemp("", "pbxauth-flood-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	builds, err := floodBuilds(ctx, o, bin, dir)
	if err != nil {
		return nil, err
	}
	sc := floodScenario{rate: o.floodRate, conns: 32, signIns: o.floodSignIns, warmup: time.Second}
	var results []*floodResult
	for round := range o.floodRounds {
		for i := range builds {
			b := builds[(i+round)%len(builds)]
			db := filepath.Join(dir, fmt.Sprintf("round%d-%d.db", round, i))
			pw := "load-admin-pw-" + store.NewID()
			c, err := startChild(ctx, b.bin, pw, o.childMemLimit, log, "sqlite:"+db)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", b.name, err)
			}
			r, err := floodRun(ctx, burstTarget{api: c.url + "/api", pid: c.cmd.Process.Pid, user: "admin", pw: pw}, sc)
			if stopErr := c.stop(); err == nil {
				err = stopErr
			}
			if err != nil {
				return nil, fmt.Errorf("flood, %s: %w", b.name, err)
			}
			r.build = b.name
			r.print(out, sc)
			results = append(results, r)
		}
	}
	return results, nil
}

// print writes one run's figures.
func (f *floodResult) print(w io.Writer, sc floodScenario) {
	idle, during := latencies(f.idle), latencies(f.during)
	fmt.Fprintf(w, "\nflood of refused forget_password, %d/s offered (%s), example on SQLite:\n", sc.rate, f.build)
	fmt.Fprintf(w, "  flood: %.0f/s sent over %s, %d dropped; %s\n", f.sentRate(), f.floodTime.Round(time.Millisecond), f.dropped, statusText(f.flood))
	fmt.Fprintf(w, "  user's sign-ins: at rest p50 %s p99 %s [%s]; during the flood p50 %s p99 %s [%s]\n",
		ms(percentile(idle, 50)), ms(percentile(idle, 99)), statusText(f.idle.statuses),
		ms(percentile(during, 50)), ms(percentile(during, 99)), statusText(f.during.statuses))
}

// sentRate is how many flood requests a second were sent.
func (f *floodResult) sentRate() float64 {
	return float64(f.offered-f.dropped) / f.floodTime.Seconds()
}
