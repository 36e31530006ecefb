// This file holds the context values pbxauth puts on every request's path
// (the request's ID and client, the bearer token's caller): each is one
// allocation, where context.WithValue with a pointer would be two, and
// the request that carries it is made in the same one (withValue).

package pbxauth

import (
	"context"
	"fmt"
	"net/http"
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

// requestWith is a request and the context value it carries, allocated
// together.
type requestWith[K comparable, V any] struct {
	r http.Request
	c valueCtx[K, V]
}

// withValue returns a shallow copy of r, as r.WithContext makes it, whose
// context carries a zero V under K{}, and that V's address to fill in: one
// allocation where r.WithContext and the value would make two.
func withValue[K comparable, V any](r *http.Request) (*http.Request, *V) {
	x := &requestWith[K, V]{c: valueCtx[K, V]{Context: r.Context()}}
	x.r = *r.WithContext(&x.c) // inlined: WithContext's own copy stays on the stack
	return &x.r, &x.c.v
}
