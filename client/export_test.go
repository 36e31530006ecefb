// This file lets the tests replace the backoff's wait.

package client

import (
	"context"
	"time"
)

// SetSleep replaces the wait between refresh retries.
func SetSleep(c *Client, sleep func(ctx context.Context, d time.Duration) error) { c.sleep = sleep }
