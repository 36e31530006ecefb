// This file measures passkey sign-ins under a password spray: the example
// server's admin registers a passkey, signs in with it again and again at
// rest, and then again while many attacking loopback addresses keep the
// password hashing lanes saturated with wrong sign-ins. A passkey sign-in
// hashes no password, so the spray should not refuse it.

package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/pbxauth/pbxauth/internal/softauthn"
	"github.com/pbxauth/pbxauth/store"
)

// passkeyResult is what the passkey run measured.
type passkeyResult struct {
	attackers    int
	rest, attack *sample     // the admin's passkey sign-ins, without and with the spray
	spray        map[int]int // statuses of the spray's sign-ins
}

// passkeyPace is the time between two of the admin's sign-ins: 100 at rest
// and 100 under the spray stay below the 300 passkey starts an address may
// make in a minute (Limits.PasskeyStarts).
const passkeyPace = 100 * time.Millisecond

// passkeyChild runs the passkey measurement against a fresh example server
// (memory store; its default public URL names localhost, so passkeys are
// on) and prints the result.
func passkeyChild(ctx context.Context, o options, bin string, log io.Writer, out io.Writer) (*passkeyResult, error) {
	pw := "load-admin-pw-" + store.NewID()
	c, err := startChild(ctx, bin, pw, o.childMemLimit, log, "memory")
	if err != nil {
		return nil, err
	}
	// The page's origin, which passkeys are bound to.
	origin := strings.Replace(c.url, "//127.0.0.1:", "//localhost:", 1)
	r, err := passkeyRun(ctx, burstTarget{api: c.url + "/api", user: "admin", pw: pw}, origin, o)
	if stopErr := c.stop(); err == nil {
		err = stopErr
	}
	if err != nil {
		return nil, err
	}
	r.print(out, o.markdown)
	return r, nil
}

// passkeyRun registers a passkey for t.user, then makes o.passkeySignIns
// sign-ins with it at rest and as many under the spray.
func passkeyRun(ctx context.Context, t burstTarget, origin string, o options) (*passkeyResult, error) {
	mon := loopbackClient(0, 1)
	defer mon.Transport.(*http.Transport).CloseIdleConnections()
	cred, err := registerPasskey(ctx, mon, t, origin)
	if err != nil {
		return nil, err
	}
	res := &passkeyResult{attackers: o.deviceAttackers}
	if res.rest, err = passkeySignIns(ctx, mon, t.api, origin, cred, o.passkeySignIns); err != nil {
		return nil, err
	}
	stopAttack := attack(ctx, t.api, o.deviceAttackers)
	defer stopAttack()
	// Let the spray fill the hashing slots and queues first.
	select {
	case <-time.After(2 * time.Second):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if res.attack, err = passkeySignIns(ctx, mon, t.api, origin, cred, o.passkeySignIns); err != nil {
		return nil, err
	}
	res.spray = stopAttack()
	return res, nil
}

// registerPasskey signs t.user in with the password and registers a
// software passkey.
func registerPasskey(ctx context.Context, c *http.Client, t burstTarget, origin string) (*softauthn.Credential, error) {
	access, err := signIn(ctx, c, t.api, t.user, t.pw)
	if err != nil {
		return nil, err
	}
	var opts struct {
		Token     string `json:"token"`
		PublicKey struct {
			Challenge string `json:"challenge"`
			RP        struct {
				ID string `json:"id"`
			} `json:"rp"`
			User struct {
				ID string `json:"id"`
			} `json:"user"`
		} `json:"publicKey"`
	}
	if status, err := post(ctx, c, t.api+"/auth/passkeys/options", access, nil, &opts); status != http.StatusOK {
		return nil, fmt.Errorf("passkey options: status %d %v", status, err)
	}
	challenge, err1 := base64.RawURLEncoding.DecodeString(opts.PublicKey.Challenge)
	handle, err2 := base64.RawURLEncoding.DecodeString(opts.PublicKey.User.ID)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("passkey options: %v %v", err1, err2)
	}
	cred := softauthn.New(opts.PublicKey.RP.ID, handle)
	body := map[string]any{"token": opts.Token, "credential": json.RawMessage(cred.Register(softauthn.Ceremony{Challenge: challenge, Origin: origin}))}
	if status, err := post(ctx, c, t.api+"/auth/passkeys", access, body, nil); status != http.StatusCreated {
		return nil, fmt.Errorf("register a passkey: status %d %v", status, err)
	}
	return cred, nil
}

// passkeySignIns makes n passkey sign-ins one after the other, paced, each
// the options and the assertion; a sign-in's status is the first that was
// not 200, and its latency both requests' and the signature's.
func passkeySignIns(ctx context.Context, c *http.Client, api, origin string, cred *softauthn.Credential, n int) (*sample, error) {
	s := &sample{statuses: map[int]int{}}
	tick := time.NewTicker(passkeyPace)
	defer tick.Stop()
	began := time.Now()
	for range n {
		t0 := time.Now()
		var opts struct {
			Token     string `json:"token"`
			PublicKey struct {
				Challenge string `json:"challenge"`
			} `json:"publicKey"`
		}
		status, _ := post(ctx, c, api+"/auth/sign_in/passkey/options", "", map[string]any{}, &opts)
		if status == http.StatusOK {
			challenge, _ := base64.RawURLEncoding.DecodeString(opts.PublicKey.Challenge)
			answer := cred.Assert(softauthn.Ceremony{Challenge: challenge, Origin: origin})
			status, _ = post(ctx, c, api+"/auth/sign_in/passkey", "", map[string]any{"token": opts.Token, "credential": json.RawMessage(answer)}, nil)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		s.lat = append(s.lat, time.Since(t0))
		s.statuses[status]++
		select {
		case <-tick.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	s.elapsed = time.Since(began)
	return s, nil
}

// post sends body as JSON (none when nil) with the bearer token when not
// "", decodes a 2XX answer into into when not nil, and returns the status
// (0 for a transport error).
func post(ctx context.Context, c *http.Client, url, bearer string, body, into any) (int, error) {
	var rd io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if into != nil && resp.StatusCode/100 == 2 {
		err = json.NewDecoder(resp.Body).Decode(into)
	}
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

// served is the share of s's sign-ins that succeeded.
func served(s *sample) float64 {
	return float64(s.statuses[http.StatusOK]) / float64(max(len(s.lat), 1))
}

// print writes the run's figures, and with markdown its table.
func (p *passkeyResult) print(w io.Writer, markdown bool) {
	rows := []struct {
		name string
		s    *sample
	}{{"at rest", p.rest}, {fmt.Sprintf("while %d addresses spray passwords", p.attackers), p.attack}}
	fmt.Fprintln(w, "\npasskey sign-ins of the admin:")
	for _, row := range rows {
		lat := latencies(row.s)
		fmt.Fprintf(w, "  %s: %d sign-ins, %.1f%% served (%s); p50 %s, p99 %s\n", row.name, len(row.s.lat), 100*served(row.s),
			statusText(row.s.statuses), ms(percentile(lat, 50)), ms(percentile(lat, 99)))
	}
	fmt.Fprintf(w, "  spray: %s\n", statusText(p.spray))
	if !markdown {
		return
	}
	fmt.Fprintln(w, "\n| passkey sign-ins | served (goal under the spray ≥ 99%) | statuses | p50 | p99 |")
	fmt.Fprintln(w, "|---|---:|---|---:|---:|")
	for _, row := range rows {
		lat := latencies(row.s)
		fmt.Fprintf(w, "| %s | %.1f%% | %s | %s | %s |\n", row.name, 100*served(row.s), statusText(row.s.statuses), ms(percentile(lat, 50)), ms(percentile(lat, 99)))
	}
	fmt.Fprintf(w, "\nThe spray's statuses: %s\n", statusText(p.spray))
}
