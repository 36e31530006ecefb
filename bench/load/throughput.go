// This file measures throughput: GET /auth/user through RequireBearer on the
// memory store beside a bare handler that writes the same JSON, on one
// in-process loopback server, over the same pool of connections.

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/store"
)

// server is pbxauth under /api and the bare handler under /bare, on a
// loopback port, with one system user.
type server struct {
	url      string // http://127.0.0.1:PORT
	auth     *pbxauth.Auth
	srv      *http.Server
	user, pw string
}

// userInfo is the JSON of GET /auth/user, for the bare handler.
type userInfo struct {
	Username           string `json:"username"`
	Role               string `json:"role"`
	PasswordVerified   bool   `json:"password_verified"`
	PasswordForceReset bool   `json:"password_force_reset"`
}

// bare answers GET /auth/user as pbxauth does for a signed-in system admin,
// marshalling the JSON for every request as pbxauth does, with no check.
func bare(w http.ResponseWriter, r *http.Request) {
	b, _ := json.Marshal(userInfo{Username: "admin", Role: "SystemAdmin", PasswordVerified: true})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// startServer serves a new Auth made from cfg (Store is filled in when nil)
// on 127.0.0.1 until ctx ends or Close is called.
func startServer(ctx context.Context, cfg pbxauth.Config) (*server, error) {
	if cfg.Store == nil {
		cfg.Store = memstore.New()
	}
	a, err := pbxauth.New(cfg)
	if err != nil {
		return nil, err
	}
	s := &server{auth: a, user: "admin", pw: "load-test-pw-" + store.NewID()}
	hash, err := a.HashPassword(ctx, s.pw)
	if err != nil {
		return nil, err
	}
	if err := cfg.Store.CreateUser(ctx, store.User{ID: store.NewID(), Username: s.user, Role: "SystemAdmin", PasswordHash: hash}); err != nil {
		return nil, err
	}
	bareMux := http.NewServeMux()
	bareMux.HandleFunc("GET /auth/user", bare)
	mux := http.NewServeMux()
	mux.Handle("/api/", http.StripPrefix("/api", a.Handler()))
	mux.Handle("/bare/", http.StripPrefix("/bare", bareMux))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.url = "http://" + ln.Addr().String()
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln)
	return s, nil
}

func (s *server) Close() error { return s.srv.Close() }

// signIn signs user in at api (the mount, ".../api") and returns the access token.
func signIn(ctx context.Context, c *http.Client, api, user, pw string) (string, error) {
	body, _ := json.Marshal(map[string]string{"username": user, "password": pw})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, api+"/auth/sign_in", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var pair struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&pair); err != nil || resp.StatusCode != http.StatusOK || pair.AccessToken == "" {
		return "", fmt.Errorf("sign in as %s: status %d, %v", user, resp.StatusCode, err)
	}
	return pair.AccessToken, nil
}

// get sends req and reads the whole answer; it returns the status, or 0 for
// a transport error.
func get(c *http.Client, req *http.Request) int {
	resp, err := c.Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// target is one URL the throughput test drives.
type target struct {
	name, url, token string
}

// drive sends n GET requests to t from conns workers that share client, and
// returns what it saw.
func drive(ctx context.Context, c *http.Client, t target, n, conns int) (*sample, error) {
	s := &sample{lat: make([]time.Duration, n), statuses: map[int]int{}}
	var next atomic.Int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	cpu, start := cpuTime(), time.Now()
	for range conns {
		wg.Go(func() {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.url, nil)
			if err != nil {
				panic(err) // t.url is built by this program
			}
			if t.token != "" {
				req.Header.Set("Authorization", "Bearer "+t.token)
			}
			statuses := map[int]int{}
			for {
				i := next.Add(1) - 1
				if i >= int64(n) || ctx.Err() != nil {
					break
				}
				t0 := time.Now()
				statuses[get(c, req)]++
				s.lat[i] = time.Since(t0)
			}
			mu.Lock()
			for k, v := range statuses {
				s.statuses[k] += v
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	s.elapsed, s.cpu = time.Since(start), cpuTime()-cpu
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

// throughputResult holds every round of both targets.
type throughputResult struct {
	requests, conns int
	bare, auth      []*sample // one per round
}

// throughput runs the throughput part. cfg, when not nil, adjusts the
// server's Config (the smoke test makes hashing cheap).
func throughput(ctx context.Context, o options, cfg func(*pbxauth.Config)) (*throughputResult, error) {
	c := pbxauth.Config{}
	if cfg != nil {
		cfg(&c)
	}
	srv, err := startServer(ctx, c)
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	tr := &http.Transport{MaxIdleConns: o.conns, MaxIdleConnsPerHost: o.conns, MaxConnsPerHost: o.conns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	token, err := signIn(ctx, client, srv.url+"/api", srv.user, srv.pw)
	if err != nil {
		return nil, err
	}
	targets := []target{
		{"bare handler", srv.url + "/bare/auth/user", ""},
		{"pbxauth (memory store)", srv.url + "/api/auth/user", token},
	}
	if err := sameAnswers(ctx, client, targets); err != nil {
		return nil, err
	}
	// Warm up: open every connection and let both paths run once in a while.
	for _, t := range targets {
		if _, err := drive(ctx, client, t, 10*o.conns, o.conns); err != nil {
			return nil, err
		}
	}
	res := &throughputResult{requests: o.requests, conns: o.conns}
	for round := range o.rounds {
		order := []int{0, 1}
		if round%2 == 1 {
			order = []int{1, 0}
		}
		for _, i := range order {
			s, err := drive(ctx, client, targets[i], o.requests, o.conns)
			if err != nil {
				return nil, err
			}
			if i == 0 {
				res.bare = append(res.bare, s)
			} else {
				res.auth = append(res.auth, s)
			}
		}
	}
	return res, nil
}

// sameAnswers checks that both targets answer the same status and body, so
// that the comparison is between equal work apart from authentication.
func sameAnswers(ctx context.Context, c *http.Client, targets []target) error {
	var bodies []string
	for _, t := range targets {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.url, nil)
		if err != nil {
			return err
		}
		if t.token != "" {
			req.Header.Set("Authorization", "Bearer "+t.token)
		}
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		bodies = append(bodies, fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(b))))
	}
	if bodies[0] != bodies[1] {
		return errors.New("the targets answer differently: " + strings.Join(bodies, " | "))
	}
	return nil
}
