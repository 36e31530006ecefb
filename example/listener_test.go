package main

import (
	"errors"
	"net"
	"testing"
	"time"
)

// TestDrainServesBacklog: connections the kernel completed before drain,
// but nobody accepted yet, are still handed out; then Accept says closed.
func TestDrainServesBacklog(t *testing.T) {
	ln, err := listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const n = 5
	for range n {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	ln.drain()
	for i := range n {
		c, err := ln.Accept()
		if err != nil {
			t.Fatalf("connection %d of the backlog: %v", i, err)
		}
		c.Close()
	}
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after the backlog: %v, want net.ErrClosed", err)
	}
}
