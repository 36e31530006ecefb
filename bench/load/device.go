// This file measures the known-device lane: while many attacking addresses
// keep password hashing saturated with wrong sign-ins, one user signs in
// again and again, once through devices they signed in from before (the
// device cookie) and once without; the success rate and latency of those
// sign-ins are reported side by side.

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/store"
)

// deviceScenario is one run of the known-device measurement.
type deviceScenario struct {
	attackers int           // attacking loopback addresses, 127.0.0.2 up
	signIns   int           // the user's sign-ins during the attack
	devices   int           // devices the user signs in through, in turn
	pace      time.Duration // between two of the user's sign-ins
	warmup    time.Duration // of the attack before the user's first sign-in
	cookie    bool          // sign in through known devices
}

// deviceResult is what one run measured.
type deviceResult struct {
	scenario deviceScenario
	user     *sample     // the user's sign-ins
	attack   map[int]int // statuses of the attackers' sign-ins
}

// deviceScenarios are the two runs o asks for: with and without devices.
// The user's sign-ins are spread over devices and paced so that no device
// passes its 10 sign-ins a minute.
func deviceScenarios(o options) []deviceScenario {
	base := deviceScenario{attackers: o.deviceAttackers, signIns: o.deviceSignIns, devices: 5, pace: 1300 * time.Millisecond, warmup: 2 * time.Second}
	with, without := base, base
	with.cookie = true
	return []deviceScenario{with, without}
}

// success is the share of the user's sign-ins that succeeded.
func (d *deviceResult) success() float64 {
	return float64(d.user.statuses[http.StatusOK]) / float64(max(len(d.user.lat), 1))
}

// deviceRun measures sc against t: it signs the user in through sc.devices
// fresh devices first (when sc.cookie), starts the attack, waits until
// hashing is saturated, then makes the user's sign-ins.
func deviceRun(ctx context.Context, t burstTarget, sc deviceScenario) (*deviceResult, error) {
	mon := loopbackClient(0, 1)
	defer mon.Transport.(*http.Transport).CloseIdleConnections()
	cookies := make([]string, sc.devices)
	if sc.cookie {
		for i := range cookies {
			status, c, _ := deviceSignIn(ctx, mon, t, "")
			if status != http.StatusOK || c == "" {
				return nil, fmt.Errorf("sign in for a device cookie: status %d", status)
			}
			cookies[i] = c
		}
	}
	res := &deviceResult{scenario: sc, user: &sample{statuses: map[int]int{}}}
	stopAttack := attack(ctx, t.api, sc.attackers)
	defer stopAttack()
	// Let the attack fill the hashing slots and queue first.
	select {
	case <-time.After(sc.warmup):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	tick := time.NewTicker(sc.pace)
	defer tick.Stop()
	began := time.Now()
	for i := range sc.signIns {
		t0 := time.Now()
		status, next, err := deviceSignIn(ctx, mon, t, cookies[i%sc.devices])
		if err != nil {
			return nil, err
		}
		res.user.lat = append(res.user.lat, time.Since(t0))
		res.user.statuses[status]++
		if next != "" && sc.cookie {
			cookies[i%sc.devices] = next // rotated in place
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	res.user.elapsed = time.Since(began)
	res.attack = stopAttack()
	return res, ctx.Err()
}

// attack keeps n loopback addresses (127.0.0.2 up), one connection each,
// sending wrong-password sign-ins to api without pause, until the returned
// stop is called; stop (which may be called again) returns the statuses
// they got.
func attack(ctx context.Context, api string, n int) (stop func() map[int]int) {
	attackCtx, cancel := context.WithCancel(ctx)
	statuses := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for k := range n {
		c := loopbackClient(k+1, 1)
		wg.Go(func() {
			defer c.Transport.(*http.Transport).CloseIdleConnections()
			mine := map[int]int{}
			for i := 0; attackCtx.Err() == nil; i++ {
				mine[wrongSignIn(attackCtx, c, api, k*1_000_000+i)]++
			}
			mu.Lock()
			for s, m := range mine {
				statuses[s] += m
			}
			mu.Unlock()
		})
	}
	return func() map[int]int {
		cancel()
		wg.Wait()
		return statuses
	}
}

// deviceSignIn signs t.user in, with the device cookie value when not "",
// and returns the status and the device cookie the answer set, if any.
func deviceSignIn(ctx context.Context, c *http.Client, t burstTarget, device string) (int, string, error) {
	body, _ := json.Marshal(map[string]string{"username": t.user, "password": t.pw})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.api+"/auth/sign_in", bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	if device != "" {
		// Sent by hand under both names: the client is not a browser that
		// knows the example serves plain HTTP.
		req.Header.Set("Cookie", "__Host-"+pbxauth.DeviceCookieName+"="+device+"; "+pbxauth.DeviceCookieName+"="+device)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", nil // counted as a transport error
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	for _, ck := range resp.Cookies() {
		if strings.HasSuffix(ck.Name, pbxauth.DeviceCookieName) {
			return resp.StatusCode, ck.Value, nil
		}
	}
	return resp.StatusCode, "", nil
}

// deviceChildren runs both device scenarios, each against a fresh example
// server, and prints each result as it comes.
func deviceChildren(ctx context.Context, o options, bin string, log io.Writer, out io.Writer) ([]*deviceResult, error) {
	var results []*deviceResult
	for _, sc := range deviceScenarios(o) {
		pw := "load-admin-pw-" + store.NewID()
		c, err := startChild(ctx, bin, pw, o.childMemLimit, log, "memory")
		if err != nil {
			return nil, err
		}
		r, err := deviceRun(ctx, burstTarget{api: c.url + "/api", pid: c.cmd.Process.Pid, user: "admin", pw: pw}, sc)
		if stopErr := c.stop(); err == nil {
			err = stopErr
		}
		if err != nil {
			return nil, fmt.Errorf("known device (cookie %v): %w", sc.cookie, err)
		}
		r.print(out)
		results = append(results, r)
	}
	return results, nil
}

// print writes one run's figures.
func (d *deviceResult) print(w io.Writer) {
	lat := latencies(d.user)
	name := "without a device cookie"
	if d.scenario.cookie {
		name = "through known devices"
	}
	fmt.Fprintf(w, "\nsign-ins %s, %d attacking addresses:\n", name, d.scenario.attackers)
	fmt.Fprintf(w, "  user: %d sign-ins, %.0f%% succeeded (%s); p50 %s, p99 %s\n",
		len(d.user.lat), 100*d.success(), statusText(d.user.statuses), ms(percentile(lat, 50)), ms(percentile(lat, 99)))
	fmt.Fprintf(w, "  attack: %s\n", statusText(d.attack))
}
