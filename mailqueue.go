// This file holds the background sender of password-reset mails: a small
// bounded queue drained by one goroutine, with bounded retries, so that
// POST /auth/forget_password answers at once and the same way whether or not
// a mail goes out. (The second-factor code is sent on the request path: its
// caller must learn that no code went out.)

package pbxauth

import (
	"context"
	"errors"
	"sync"
	"time"
)

// mailQueueSize bounds the mails waiting to be sent; beyond it requests are
// dropped (and logged), never blocked on.
const mailQueueSize = 100

// mailQueue runs jobs one at a time, in order, on a goroutine started by
// the first push. One worker is enough for the few reset mails an
// installation sends, and it keeps the order of requests.
type mailQueue struct {
	jobs   chan func(context.Context)
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	started bool
	closed  bool
}

func newMailQueue() *mailQueue {
	ctx, cancel := context.WithCancel(context.Background())
	return &mailQueue{jobs: make(chan func(context.Context), mailQueueSize), ctx: ctx, cancel: cancel, done: make(chan struct{})}
}

// push queues job; false when the queue is full or closed.
func (q *mailQueue) push(job func(context.Context)) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return false
	}
	if !q.started {
		q.started = true
		go q.run()
	}
	select {
	case q.jobs <- job:
		return true
	default:
		return false
	}
}

func (q *mailQueue) run() {
	defer close(q.done)
	for {
		select {
		case <-q.ctx.Done():
			return
		case job := <-q.jobs:
			if q.ctx.Err() != nil {
				return
			}
			job(q.ctx)
		}
	}
}

// close stops the worker: the job in progress sees its context cancelled,
// waiting retries are abandoned. It returns how many queued jobs were dropped.
func (q *mailQueue) close() int {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return 0
	}
	q.closed = true
	started := q.started
	q.cancel()
	q.mu.Unlock()
	if started {
		<-q.done
	}
	return len(q.jobs)
}

// Close stops the background mail sender (started by the first
// POST /auth/forget_password): a send in progress is cancelled, retries
// still waiting are abandoned and queued mails are dropped (and logged;
// their users may ask again). After Close, forget_password still answers
// 200 but sends nothing; everything else keeps working. Call it when the
// host shuts down, after its http.Server. It is safe to call more than once
// and always returns nil.
func (a *Auth) Close() error {
	if n := a.mailq.close(); n > 0 {
		a.log.Warn("pbxauth: closed with reset mails unsent", "dropped", n)
	}
	return nil
}

// deliver sends m from the background worker, trying again after
// Config.MailRetryDelay, doubling, at most Config.MailRetries times. It
// gives up early on a permanent refusal, at Close, and once the link in the
// mail has expired (until, by the Auth's clock).
func (a *Auth) deliver(ctx context.Context, m Message, until time.Time) {
	delay := a.cfg.MailRetryDelay
	for try := 0; ; try++ {
		if !a.now().Before(until) {
			a.log.WarnContext(ctx, "pbxauth: reset mail not sent before its link expired", "to", m.To)
			return
		}
		err := a.mailer.Send(ctx, m)
		if err == nil {
			return
		}
		if errors.Is(err, ErrMailRejected) || try >= a.cfg.MailRetries || ctx.Err() != nil {
			a.log.ErrorContext(ctx, "pbxauth: reset mail not sent", "to", m.To, "tries", try+1, "err", err)
			return
		}
		a.log.WarnContext(ctx, "pbxauth: reset mail failed, will retry", "to", m.To, "in", delay, "err", err)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
		delay *= 2
	}
}
