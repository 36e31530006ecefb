// This file refreshes the token pair: one refresh per refresh-token
// generation whatever the number of callers, on no caller's context, under
// the TokenStore's lock when it has one, retried when its answer is lost.

package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"
)

// flight is one refresh in progress; every caller that needs the
// generation it replaces waits on done.
type flight struct {
	// from is the refresh token the flight replaces.
	from string
	done chan struct{}
	tok  Token
	err  error
}

// errEnded: the server answered that the sign-in is over.
var errEnded = errors.New("client: sign-in ended")

// refresh returns a pair newer than stale: stale's successor when another
// caller refreshed meanwhile, else the result of the one refresh of
// stale's generation, started here or joined. force (after a 401) makes a
// pair another process stored count as newer even when it is due itself.
//
// The refresh runs on ctx without its cancellation: a caller gives up
// waiting when its ctx is done, but the refresh goes on, so that a
// rotation the server stored is saved and used, not lost.
func (c *Client) refresh(ctx context.Context, stale Token, force bool) (Token, error) {
	c.mu.Lock()
	cur := c.tok
	if cur.IsZero() {
		c.mu.Unlock()
		return Token{}, ErrSignedOut
	}
	if cur.RefreshToken != stale.RefreshToken || cur.AccessToken != stale.AccessToken {
		c.mu.Unlock()
		return cur, nil
	}
	f := c.flight
	if f == nil || f.from != cur.RefreshToken {
		f = &flight{from: cur.RefreshToken, done: make(chan struct{})}
		c.flight = f
		go c.fly(context.WithoutCancel(ctx), f, cur, force)
	}
	c.mu.Unlock()
	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return Token{}, ctx.Err()
	}
}

// fly runs the flight f from the pair cur and lands it.
func (c *Client) fly(ctx context.Context, f *flight, cur Token, force bool) {
	ctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	defer cancel()
	f.tok, f.err = c.rotate(ctx, f, cur, force)
	c.mu.Lock()
	if c.flight == f {
		c.flight = nil
	}
	c.mu.Unlock()
	close(f.done)
}

// rotate trades cur's refresh token for a new pair, saves it and makes it
// the client's — or, under a LockingTokenStore's lock, adopts the pair
// another holder stored since cur was read.
func (c *Client) rotate(ctx context.Context, f *flight, cur Token, force bool) (Token, error) {
	if ls, ok := c.cfg.Tokens.(LockingTokenStore); ok {
		unlock, err := ls.Lock(ctx)
		if err != nil {
			return Token{}, fmt.Errorf("client: lock tokens: %w", err)
		}
		defer unlock()
		stored, err := ls.Load(ctx)
		if err != nil {
			// Refreshing blind could reuse a token another process
			// already rotated: nothing is sent.
			return Token{}, fmt.Errorf("client: load tokens: %w", err)
		}
		if stored.RefreshToken != "" && stored.RefreshToken != cur.RefreshToken {
			if force || c.cfg.Now().Before(c.dueAt(stored)) {
				return c.land(f, stored), nil
			}
			cur = stored
		}
	}
	next, err := c.post(ctx, cur.RefreshToken)
	if errors.Is(err, errEnded) {
		c.end(ctx, f)
		return Token{}, ErrSignedOut
	}
	if err != nil {
		return Token{}, err
	}
	return c.keep(ctx, f, next), nil
}

// keep saves t and makes it the client's, unless the sign-in f refreshed
// was replaced meanwhile: then neither, so that the stored pair stays the
// one that replaced it.
func (c *Client) keep(ctx context.Context, f *flight, t Token) Token {
	c.saveMu.Lock()
	defer c.saveMu.Unlock()
	c.mu.Lock()
	current := c.tok.RefreshToken == f.from
	c.mu.Unlock()
	if current {
		c.save(ctx, t)
	}
	return c.land(f, t)
}

// land makes t the client's pair unless the sign-in f refreshed was
// replaced meanwhile (a new sign-in, a sign-out).
func (c *Client) land(f *flight, t Token) Token {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok.RefreshToken == f.from {
		c.setLocked(t)
	}
	return t
}

// end forgets the sign-in f refreshed, which the server ended: the stored
// pair is cleared and OnSignedOut called, once.
func (c *Client) end(ctx context.Context, f *flight) {
	if notify := c.forget(ctx, f); notify && c.cfg.OnSignedOut != nil {
		c.cfg.OnSignedOut()
	}
}

// forget clears the sign-in f refreshed, in memory and in Tokens, unless
// it was replaced meanwhile; whether OnSignedOut is still to be called.
func (c *Client) forget(ctx context.Context, f *flight) (notify bool) {
	c.saveMu.Lock()
	defer c.saveMu.Unlock()
	c.mu.Lock()
	if c.tok.RefreshToken != f.from {
		c.mu.Unlock()
		return false
	}
	c.setLocked(Token{})
	notify = !c.ended
	c.ended = true
	c.mu.Unlock()
	c.save(ctx, Token{})
	return notify
}

// tokenPair is the answer of a sign-in, verify_otp or refresh.
type tokenPair struct {
	AccessToken  string `json:"access_token"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	// A sign-in that needs a second factor answers these instead.
	TwoFactorEnabled bool   `json:"two_factor_enabled"`
	Token            string `json:"token"`
}

// token is the pair as kept; a refresh answer without a refresh token
// keeps the old one.
func (p tokenPair) token(now time.Time, oldRefresh string) Token {
	t := Token{AccessToken: p.AccessToken, RefreshToken: p.RefreshToken, Expiry: now.Add(time.Duration(p.ExpiresIn) * time.Second)}
	if t.RefreshToken == "" {
		t.RefreshToken = oldRefresh
	}
	return t
}

// post sends POST /auth/refresh_token, retrying for at most retryBudget
// when the answer is lost or refused for now (a network error, 5xx, 429),
// with jittered exponential backoff or the server's Retry-After when
// longer. errEnded when the server ended the sign-in.
func (c *Client) post(ctx context.Context, refreshToken string) (Token, error) {
	deadline := c.cfg.Now().Add(retryBudget)
	for attempt := 0; ; attempt++ {
		var p tokenPair
		err := c.call(ctx, c.hc, http.MethodPost, "/auth/refresh_token", map[string]string{"refresh_token": refreshToken}, &p)
		if err == nil {
			if p.AccessToken == "" {
				return Token{}, errors.New("client: refresh answered no access token")
			}
			return p.token(c.cfg.Now(), refreshToken), nil
		}
		var wait time.Duration
		var ae *APIError
		switch {
		case errors.As(err, &ae) && endsSession(ae):
			return Token{}, errEnded
		case ae != nil && !retryable(ae):
			return Token{}, err
		case ae != nil:
			wait = ae.RetryAfter
		case ctx.Err() != nil:
			return Token{}, err
		}
		wait = max(wait, backoff(attempt))
		if c.cfg.Now().Add(wait).After(deadline) {
			return Token{}, err
		}
		if serr := c.sleep(ctx, wait); serr != nil {
			return Token{}, err
		}
	}
}

// backoff is the jittered wait before retry attempt+1: 200 ms doubling to
// 2 s, each drawn from its upper half.
func backoff(attempt int) time.Duration {
	d := 200 * time.Millisecond << min(attempt, 4)
	d = min(d, 2*time.Second)
	return d/2 + rand.N(d/2+1)
}
