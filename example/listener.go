// This file holds the listener that lets a shutdown serve the clients that
// connected just before it: closing a listener resets the connections the
// kernel has completed but the server not yet accepted.

package main

import (
	"errors"
	"net"
	"sync/atomic"
	"time"
)

// backlogWait is how long drain keeps accepting once the backlog looks
// empty: a connection completed that late is served too.
const backlogWait = 100 * time.Millisecond

// drainingListener is a TCP listener that, once drain is called, still
// hands out the connections already waiting (the accept backlog) and then
// reports itself closed, so that Serve returns and Shutdown can wait for
// those connections' requests.
type drainingListener struct {
	*net.TCPListener
	draining atomic.Bool
	// idle is set by a timeout while draining and cleared by a connection:
	// the backlog is only taken as empty after a second timeout in a row,
	// whose deadline was set right before the accept. (The first may have
	// run out while the serving goroutine waited for a CPU, with
	// connections still waiting.)
	idle atomic.Bool
}

// listen opens a drainingListener on addr.
func listen(addr string) (*drainingListener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &drainingListener{TCPListener: ln.(*net.TCPListener)}, nil
}

// Accept implements net.Listener.
func (l *drainingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.TCPListener.Accept()
		var ne net.Error
		if err == nil || !l.draining.Load() || !errors.As(err, &ne) || !ne.Timeout() {
			l.idle.Store(false)
			return c, err
		}
		if l.idle.Swap(true) {
			return nil, net.ErrClosed // the backlog is empty: stop serving new connections
		}
		l.SetDeadline(time.Now().Add(backlogWait))
	}
}

// drain makes Accept return what is waiting and then net.ErrClosed.
func (l *drainingListener) drain() {
	l.draining.Store(true)
	l.SetDeadline(time.Now().Add(backlogWait))
}
