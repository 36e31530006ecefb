// This file holds the client's errors: the API's error shape as *APIError,
// and ErrSignedOut.

package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ErrSignedOut means the client holds no live sign-in: it never signed in,
// it signed out, or the server ended the sign-in (a refresh answered 401 or
// 400 about the token: revoked, expired, reused). Sign in again.
var ErrSignedOut = errors.New("client: signed out")

// APIError is an answer of the API that is not a success, from its error
// shape {"errors":[{"code","message","reason"}]}. A body in another shape
// (a proxy's page) leaves Code and Message empty.
type APIError struct {
	// Status is the HTTP status code.
	Status int
	// Code is the stable error code (UNAUTHORIZED, TOO_MANY_REQUESTS, ...).
	Code string
	// Message is the human message.
	Message string
	// Reason refines Code where a client must act differently
	// (insufficient_scope, credentials_changed, ...), or "".
	Reason string
	// RetryAfter is the answer's Retry-After (429, 503), or 0.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("client: %d %s", e.Status, e.Code)
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Reason != "" {
		s += " (" + e.Reason + ")"
	}
	return s
}

// maxErrorBody bounds what is read of an error answer.
const maxErrorBody = 64 << 10

// readAPIError reads and closes the body of a failed answer.
func readAPIError(resp *http.Response) *APIError {
	defer resp.Body.Close()
	e := &APIError{Status: resp.StatusCode, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now())}
	var body struct {
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Reason  string `json:"reason"`
		} `json:"errors"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if json.Unmarshal(b, &body) == nil && len(body.Errors) > 0 {
		e.Code, e.Message, e.Reason = body.Errors[0].Code, body.Errors[0].Message, body.Errors[0].Reason
	}
	return e
}

// retryAfter reads Retry-After in seconds or as an HTTP date; 0 when absent
// or malformed.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(min(s, 24*3600)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// endsSession says whether a refresh answered e ends the sign-in: a 401, or
// a 400 about the refresh token. pbxauth answers an unknown, expired or
// reused refresh token 401 and one it can never accept (missing, too long)
// 400 "refresh_token is ..."; PortSIP documents only "4XX", so any 400
// whose message speaks of a token counts. Any other 400 is a fault of this
// client or a proxy, not a verdict on the sign-in.
func endsSession(e *APIError) bool {
	switch e.Status {
	case http.StatusUnauthorized:
		return true
	case http.StatusBadRequest:
		return strings.Contains(strings.ToLower(e.Message), "token")
	}
	return false
}

// retryable says whether a refresh answered e may have been lost or
// refused for now: 429 and 5xx.
func retryable(e *APIError) bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}
