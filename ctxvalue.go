// This file holds the context values pbxauth puts on every request's path
// (the request's ID and client, the bearer token's caller): each is one
// allocation, where context.WithValue with a pointer would be two.

package pbxauth

import (
	"context"
	"fmt"
)

// valueCtx is a context carrying a V under the key K{}, handed out as *V.
type valueCtx[K comparable, V any] struct {
	context.Context
	v V
}

func (c *valueCtx[K, V]) Value(key any) any {
	if key == any(*new(K)) {
		return &c.v
	}
	return c.Context.Value(key)
}

func (c *valueCtx[K, V]) String() string {
	return fmt.Sprintf("%v.WithValue(%T)", c.Context, c.v)
}
