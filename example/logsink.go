// This file keeps logging off the request path: a slog.Handler that hands
// each record to one writer goroutine through a bounded channel. The
// writer formats the records as text into a buffered writer, flushed every
// logFlushEvery and when the server stops. A request never waits for the
// log: when the channel is full, the record is dropped and counted, and the
// writer logs how many were dropped at its next flush.

package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// logQueue is how many records may wait for the writer.
	logQueue = 4096
	// logFlushEvery bounds how long a written line may sit in the buffer.
	logFlushEvery = 100 * time.Millisecond
)

// logSink is the writer goroutine and its queue.
type logSink struct {
	queue   chan logEntry
	dropped atomic.Int64
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

// logEntry is a record and the handler (with its attributes and groups)
// that formats it.
type logEntry struct {
	h slog.Handler
	r slog.Record
}

// newAsyncLogger returns a logger that writes text lines to w off the
// caller's path, and a close function that writes what is queued, flushes
// and stops the writer. Records logged after close are dropped.
func newAsyncLogger(w io.Writer, opts *slog.HandlerOptions) (*slog.Logger, func()) {
	bw := bufio.NewWriterSize(w, 64<<10)
	s := &logSink{queue: make(chan logEntry, logQueue), stop: make(chan struct{}), done: make(chan struct{})}
	text := slog.NewTextHandler(bw, opts)
	go s.write(bw, text)
	return slog.New(asyncHandler{s, text}), func() {
		s.once.Do(func() { close(s.stop) })
		<-s.done
	}
}

// write formats every queued record into bw until stop, flushing every
// logFlushEvery, and then whatever is left.
func (s *logSink) write(bw *bufio.Writer, text slog.Handler) {
	defer close(s.done)
	tick := time.NewTicker(logFlushEvery)
	defer tick.Stop()
	reported := int64(0)
	flush := func() {
		if n := s.dropped.Load(); n > reported {
			r := slog.NewRecord(time.Now(), slog.LevelWarn, "log lines dropped: the log buffer was full", 0)
			r.AddAttrs(slog.Int64("dropped", n-reported), slog.Int64("dropped_total", n))
			text.Handle(context.Background(), r)
			reported = n
		}
		bw.Flush()
	}
	for {
		select {
		case e := <-s.queue:
			e.h.Handle(context.Background(), e.r)
		case <-tick.C:
			flush()
		case <-s.stop:
			for {
				select {
				case e := <-s.queue:
					e.h.Handle(context.Background(), e.r)
				default:
					flush()
					return
				}
			}
		}
	}
}

// asyncHandler queues records for the sink; h formats them there.
type asyncHandler struct {
	sink *logSink
	h    slog.Handler
}

func (a asyncHandler) Enabled(ctx context.Context, l slog.Level) bool { return a.h.Enabled(ctx, l) }

// Handle queues r, or drops and counts it when the queue is full or the
// sink stopped: it never blocks.
func (a asyncHandler) Handle(_ context.Context, r slog.Record) error {
	select {
	case <-a.sink.stop:
		a.sink.dropped.Add(1)
		return nil
	default:
	}
	select {
	case a.sink.queue <- logEntry{a.h, r.Clone()}:
	default:
		a.sink.dropped.Add(1)
	}
	return nil
}

func (a asyncHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return asyncHandler{a.sink, a.h.WithAttrs(attrs)}
}

func (a asyncHandler) WithGroup(name string) slog.Handler {
	return asyncHandler{a.sink, a.h.WithGroup(name)}
}
