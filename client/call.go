// This file sends the client's own JSON requests to the API and reads their
// answers.

package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

// maxAnswer bounds what is read of a successful answer.
const maxAnswer = 1 << 20

// call sends in (nil for none) as JSON to route with hc and decodes a 2xx
// answer into out (nil to discard it). A failed answer is an *APIError.
// An empty 2xx body leaves out as it was: PortSIP answers some routes
// without one.
func (c *Client) call(ctx context.Context, hc *http.Client, method, route string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url(route), body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.cfg.UserAgent != "" {
		req.Header.Set("User-Agent", c.cfg.UserAgent)
	}
	resp, err := hc.Do(req)
	if errors.Is(err, ErrSignedOut) {
		return ErrSignedOut
	}
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return readAPIError(resp)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil || out == nil || len(bytes.TrimSpace(b)) == 0 {
		return err
	}
	return json.Unmarshal(b, out)
}
