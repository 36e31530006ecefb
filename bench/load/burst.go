// This file measures burst safety: a flood of sign-ins with wrong passwords
// against a server while a signed-in user keeps calling GET /auth/user, with
// the server's peak memory, the statuses of the flood and the latency of the
// bearer requests.

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pbxauth/pbxauth"
)

// burstScenario is one way of sending wrong-password sign-ins.
type burstScenario struct {
	name        string
	requests    int // in all
	concurrency int // in flight at once; requests == concurrency is one wave
	addrs       int // loopback source addresses used, from 127.0.0.1 up
}

// scenarios are the burst scenarios o asks for.
func scenarios(o options) []burstScenario {
	s := []burstScenario{{name: "one wave, one address", requests: o.burst, concurrency: o.burst, addrs: 1}}
	if o.addrs > 1 {
		s = append(s, burstScenario{name: fmt.Sprintf("one wave, %d addresses", o.addrs), requests: o.burst, concurrency: o.burst, addrs: o.addrs})
	}
	if o.paced > 0 {
		s = append(s, burstScenario{name: "paced, one address", requests: o.paced, concurrency: o.pacedConns, addrs: 1})
	}
	return s
}

// burstTarget is a server under test: its API, its process and a user who
// may sign in.
type burstTarget struct {
	api      string // http://127.0.0.1:PORT/api
	pid      int
	user, pw string
}

// burstResult is what one scenario did to one server.
type burstResult struct {
	scenario            burstScenario
	limit               int64 // the goal for the peak RSS, bytes
	hwmBefore, hwmAfter int64 // peak RSS before and after the burst
	statuses            map[int]int
	elapsed             time.Duration
	idle, during        *sample // bearer requests before and during the burst
}

// rssLimit is the goal for the server's peak RSS: 64 MiB plus one argon2id
// working memory per concurrent hash. A server started from this process's
// environment gets the same default MaxConcurrentHashes, GOMAXPROCS.
func rssLimit() int64 {
	return 64<<20 + int64(runtime.GOMAXPROCS(0))*int64(pbxauth.DefaultArgon2.Memory)<<10
}

// loopbackClient returns a client whose connections come from 127.0.0.(1+k).
func loopbackClient(k, conns int) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+k))}, Timeout: 10 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext, MaxIdleConns: conns, MaxIdleConnsPerHost: conns, DisableCompression: true}
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

// burst signs in t.user, measures its bearer requests at rest, then runs sc
// while measuring them again.
func burst(ctx context.Context, t burstTarget, sc burstScenario) (*burstResult, error) {
	mon := loopbackClient(0, 1)
	defer mon.Transport.(*http.Transport).CloseIdleConnections()
	token, err := signIn(ctx, mon, t.api, t.user, t.pw)
	if err != nil {
		return nil, err
	}
	user := target{name: "GET /auth/user", url: t.api + "/auth/user", token: token}
	res := &burstResult{scenario: sc, limit: rssLimit()}
	if res.idle, err = drive(ctx, mon, user, 500, 1); err != nil {
		return nil, err
	}
	if res.hwmBefore, err = vmHWM(t.pid); err != nil {
		return nil, err
	}

	clients := make([]*http.Client, sc.addrs)
	for k := range clients {
		clients[k] = loopbackClient(k, sc.concurrency)
		defer clients[k].Transport.(*http.Transport).CloseIdleConnections()
	}
	res.statuses = map[int]int{}
	var mu sync.Mutex
	var next atomic.Int64
	var workers sync.WaitGroup
	start := make(chan struct{})
	for w := range sc.concurrency {
		workers.Go(func() {
			c := clients[w%len(clients)]
			statuses := map[int]int{}
			<-start
			for {
				i := int(next.Add(1) - 1)
				if i >= sc.requests || ctx.Err() != nil {
					break
				}
				statuses[wrongSignIn(ctx, c, t.api, i)]++
			}
			mu.Lock()
			for k, v := range statuses {
				res.statuses[k] += v
			}
			mu.Unlock()
		})
	}
	// The signed-in user keeps calling until the burst is over.
	monCtx, stopMon := context.WithCancel(ctx)
	monDone := make(chan *sample, 1)
	go func() { monDone <- monitor(monCtx, mon, user) }()
	began := time.Now()
	close(start)
	workers.Wait()
	res.elapsed = time.Since(began)
	stopMon()
	res.during = <-monDone
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if res.hwmAfter, err = vmHWM(t.pid); err != nil {
		return nil, err
	}
	return res, nil
}

// wrongSignIn sends the i-th wrong-password sign-in. One in ten is for bob, a
// real user of the demo seed whose account gets locked; the others name
// users that do not exist, one each, which cost a hash all the same.
func wrongSignIn(ctx context.Context, c *http.Client, api string, i int) int {
	user := fmt.Sprintf("load%05d", i)
	if i%10 == 0 {
		user = "bob"
	}
	body, _ := json.Marshal(map[string]string{"username": user, "domain": "acme.example.test", "password": fmt.Sprintf("wrong-password-%d", i)})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, api+"/auth/sign_in", bytes.NewReader(body))
	if err != nil {
		return 0
	}
	req.Header.Set("Content-Type", "application/json")
	return get(c, req)
}

// monitor calls t one request at a time until ctx ends.
func monitor(ctx context.Context, c *http.Client, t target) *sample {
	s := &sample{statuses: map[int]int{}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, t.url, nil)
	req.Header.Set("Authorization", "Bearer "+t.token)
	began := time.Now()
	for ctx.Err() == nil {
		t0 := time.Now()
		status := get(c, req)
		if ctx.Err() != nil {
			break // cut short by the end of the burst, not by the server
		}
		s.lat = append(s.lat, time.Since(t0))
		s.statuses[status]++
	}
	s.elapsed = time.Since(began)
	return s
}
