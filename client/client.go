// This file holds the Client: its Config, New, and the sign-in it holds in
// memory.

package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// DefaultRefreshBefore is how long before its end an access token is
// refreshed when Config.RefreshBefore is zero.
const DefaultRefreshBefore = time.Minute

// Fixed bounds of a refresh (DESIGN.md, "The Go client").
const (
	// refreshTimeout bounds one refresh, retries and the TokenStore
	// included; it runs on no caller's context.
	refreshTimeout = 30 * time.Second
	// retryBudget bounds the retries of a refresh whose answer was lost.
	retryBudget = 10 * time.Second
)

// Config configures a [Client]. Every field but BaseURL is optional.
type Config struct {
	// BaseURL is the API's base, for example
	// "https://pbx.example.com:8887/api" (for PortSIP too): routes are
	// appended to it. The bearer token is sent only to its scheme, host and
	// port. Required.
	BaseURL string
	// HTTPClient makes every request (its Transport, Timeout, Jar and
	// CheckRedirect are kept). Default http.DefaultClient.
	HTTPClient *http.Client
	// Tokens keeps the token pair between runs; see [FileTokens]. Default:
	// memory only.
	Tokens TokenStore
	// Domain is the tenant's SIP domain sent at sign-in; "" for a system
	// user.
	Domain string
	// RefreshBefore is how long before its end an access token is
	// refreshed; up to a quarter more is added at random per token, so
	// that processes sharing a sign-in do not all refresh at one instant.
	// Default DefaultRefreshBefore.
	RefreshBefore time.Duration
	// OnSignedOut, when set, is called once when the server ends the
	// sign-in (a refresh answered 401 or 400 about the token), not after
	// SignOut. It runs on the refresh's goroutine and must not block.
	OnSignedOut func()
	// OnSaveError, when set, is told of a Tokens.Save that failed; the
	// pair is kept in memory and used. Default: a warning on slog.Default.
	OnSaveError func(error)
	// UserAgent is sent with the client's own requests (sign-in, refresh);
	// it names the session in the user's list of sign-ins.
	UserAgent string
	// Now is the clock. Default time.Now. Tests inject a fake one.
	Now func() time.Time
}

// Client signs in to the API and keeps the sign-in's tokens fresh. It is
// safe for concurrent use. Create it with [New].
type Client struct {
	cfg  Config
	base *url.URL
	hc   *http.Client // Config.HTTPClient or the default: no bearer
	// sleep waits for the backoff of a refresh retry; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error

	// saveMu holds a Save together with the change of tok it goes
	// with, so that Tokens ends holding the pair in memory, whatever the
	// order in which a sign-in and a refresh land. Taken before mu, and
	// after a LockingTokenStore's lock.
	saveMu sync.Mutex

	mu sync.Mutex
	// tok is the sign-in in memory; zero when signed out or not loaded.
	tok Token
	// due is when tok is to be refreshed: RefreshBefore and its jitter
	// before its end, fixed once per generation.
	due time.Time
	// loaded: Tokens was read (or a sign-in made) since New.
	loaded bool
	// flight is the refresh in progress, if any.
	flight *flight
	// ended: the server ended the sign-in held; OnSignedOut was called.
	ended bool
}

// New checks cfg and returns a Client, signed out until a sign-in is made
// or loaded from cfg.Tokens (on first use).
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" {
		return nil, errors.New("client: Config.BaseURL is required")
	}
	u, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("client: Config.BaseURL: %w", err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("client: Config.BaseURL must be an absolute http(s) URL")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if cfg.RefreshBefore <= 0 {
		cfg.RefreshBefore = DefaultRefreshBefore
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Client{cfg: cfg, base: u, hc: cfg.HTTPClient, sleep: sleepCtx}
	return c, nil
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// url is the absolute URL of an API route ("/auth/user").
func (c *Client) url(route string) string { return c.base.String() + route }

// dueAt is when t is to be refreshed, jittered.
func (c *Client) dueAt(t Token) time.Time {
	before := c.cfg.RefreshBefore + rand.N(c.cfg.RefreshBefore/4+1)
	return t.Expiry.Add(-before)
}

// setLocked makes t the sign-in in memory; c.mu is held.
func (c *Client) setLocked(t Token) {
	c.tok, c.loaded = t, true
	c.due = c.dueAt(t)
	if !t.IsZero() {
		c.ended = false
	}
}

// adopt makes t the sign-in: saved to Tokens first (persist before use),
// then in memory. A failed Save is reported, and t is used anyway.
func (c *Client) adopt(ctx context.Context, t Token) {
	c.saveMu.Lock()
	defer c.saveMu.Unlock()
	c.save(ctx, t)
	c.mu.Lock()
	c.setLocked(t)
	c.mu.Unlock()
}

// save stores t in Tokens and reports a failure.
func (c *Client) save(ctx context.Context, t Token) {
	if c.cfg.Tokens == nil {
		return
	}
	if err := c.cfg.Tokens.Save(ctx, t); err != nil {
		c.saveFailed(err)
	}
}

func (c *Client) saveFailed(err error) {
	err = fmt.Errorf("client: save tokens: %w", err)
	if c.cfg.OnSaveError != nil {
		c.cfg.OnSaveError(err)
		return
	}
	slog.Default().Warn("client: the new token pair is kept in memory only", "err", err)
}

// load reads Tokens once, the first time a token is needed.
func (c *Client) load(ctx context.Context) error {
	c.mu.Lock()
	loaded := c.loaded
	c.mu.Unlock()
	if loaded || c.cfg.Tokens == nil {
		return nil
	}
	t, err := c.cfg.Tokens.Load(ctx)
	if err != nil {
		return fmt.Errorf("client: load tokens: %w", err)
	}
	c.mu.Lock()
	if !c.loaded {
		c.setLocked(t)
	}
	c.mu.Unlock()
	return nil
}

// Token returns the current token pair, refreshed first when it is due
// (see Config.RefreshBefore); ErrSignedOut when there is none. A refresh
// that fails for now while the token has not ended yet leaves it in use.
func (c *Client) Token(ctx context.Context) (Token, error) {
	if err := c.load(ctx); err != nil {
		return Token{}, err
	}
	c.mu.Lock()
	t, due := c.tok, c.due
	c.mu.Unlock()
	if t.IsZero() {
		return Token{}, ErrSignedOut
	}
	if c.cfg.Now().Before(due) || t.RefreshToken == "" {
		return t, nil
	}
	next, err := c.refresh(ctx, t, false)
	if err != nil && !errors.Is(err, ErrSignedOut) && ctx.Err() == nil && c.cfg.Now().Before(t.Expiry) {
		// The early refresh failed for now (the server unreachable or
		// busy); the token still works, and a later call tries again.
		return t, nil
	}
	return next, err
}

// Refresh refreshes the token pair now (joining a refresh in progress) and
// returns the new one.
func (c *Client) Refresh(ctx context.Context) (Token, error) {
	if err := c.load(ctx); err != nil {
		return Token{}, err
	}
	c.mu.Lock()
	t := c.tok
	c.mu.Unlock()
	if t.IsZero() {
		return Token{}, ErrSignedOut
	}
	return c.refresh(ctx, t, true)
}
