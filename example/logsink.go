// This file keeps logging off the request path: a slog.Handler that hands
// each record to one writer goroutine through a bounded channel, and the
// request lines, which need no record until the writer makes one. Every
// logDrainEvery, and when the server stops, the writer takes what is
// queued, formats it as slog text into a buffered writer and flushes it: it
// is never woken line by line, so logging a line costs a request one
// channel send and no wake-up. A request never waits for the log: when the
// channel is full, the line is dropped and counted, and the writer logs how
// many were dropped at its next flush.

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
	// logQueue is how many lines may wait for the writer: those of
	// 400,000 requests a second.
	logQueue = 4096
	// logDrainEvery is how long a line may wait to be written.
	logDrainEvery = 10 * time.Millisecond
)

// logSink is the writer goroutine and its queue.
type logSink struct {
	queue   chan logEntry
	dropped atomic.Int64
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
	text    slog.Handler // writes to bw; the writer's alone
	bw      *bufio.Writer
	line    []byte // the writer's scratch buffer for request lines
	stamps  stamps // and the times written in them
}

// logEntry is a record and the handler (with its attributes and groups)
// that formats it, or, when h is nil, a request line.
type logEntry struct {
	h   slog.Handler
	r   *slog.Record
	req requestLine
}

// asyncLog is the example's log: Logger for records, and request for the
// request lines.
type asyncLog struct {
	*slog.Logger
	sink *logSink
}

// newAsyncLog returns a log that writes text lines to w off the caller's
// path. Close writes what is queued, flushes and stops the writer; lines
// logged after it are dropped.
func newAsyncLog(w io.Writer, opts *slog.HandlerOptions) *asyncLog {
	bw := bufio.NewWriterSize(w, 64<<10)
	s := &logSink{queue: make(chan logEntry, logQueue), stop: make(chan struct{}), done: make(chan struct{})}
	s.text, s.bw = slog.NewTextHandler(bw, opts), bw
	go s.write()
	return &asyncLog{Logger: slog.New(asyncHandler{s, s.text}), sink: s}
}

// Close writes out what is queued and stops the writer.
func (l *asyncLog) Close() {
	l.sink.once.Do(func() { close(l.sink.stop) })
	<-l.sink.done
}

// request queues a request line, or drops and counts it.
func (l *asyncLog) request(line requestLine) { l.sink.put(logEntry{req: line}) }

// put queues e, or drops and counts it when the queue is full or the sink
// stopped: it never blocks.
func (s *logSink) put(e logEntry) {
	select {
	case <-s.stop:
		s.dropped.Add(1)
		return
	default:
	}
	select {
	case s.queue <- e:
	default:
		s.dropped.Add(1)
	}
}

// handle formats e.
func (s *logSink) handle(e logEntry) {
	if e.h == nil {
		ctx := context.Background()
		if !s.text.Enabled(ctx, slog.LevelInfo) {
			return
		}
		var ok bool
		if s.line, ok = e.req.appendText(s.line[:0], &s.stamps); ok {
			s.bw.Write(s.line)
			return
		}
		s.text.Handle(ctx, e.req.record())
		return
	}
	e.h.Handle(context.Background(), *e.r)
}

// write formats what is queued into bw and flushes it, every logDrainEvery
// until stop, and then once more.
func (s *logSink) write() {
	defer close(s.done)
	tick := time.NewTicker(logDrainEvery)
	defer tick.Stop()
	reported := int64(0)
	flush := func() {
		if n := s.dropped.Load(); n > reported {
			r := slog.NewRecord(time.Now(), slog.LevelWarn, "log lines dropped: the log buffer was full", 0)
			r.AddAttrs(slog.Int64("dropped", n-reported), slog.Int64("dropped_total", n))
			s.text.Handle(context.Background(), r)
			reported = n
		}
		s.bw.Flush()
	}
	drain := func() {
		for {
			select {
			case e := <-s.queue:
				s.handle(e)
			default:
				flush()
				return
			}
		}
	}
	for {
		select {
		case <-tick.C:
			drain()
		case <-s.stop:
			drain()
			return
		}
	}
}

// asyncHandler queues records for the sink; h formats them there.
type asyncHandler struct {
	sink *logSink
	h    slog.Handler
}

func (a asyncHandler) Enabled(ctx context.Context, l slog.Level) bool { return a.h.Enabled(ctx, l) }

// Handle queues r (see logSink.put): it never blocks.
func (a asyncHandler) Handle(_ context.Context, r slog.Record) error {
	r = r.Clone()
	a.sink.put(logEntry{h: a.h, r: &r})
	return nil
}

func (a asyncHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return asyncHandler{a.sink, a.h.WithAttrs(attrs)}
}

func (a asyncHandler) WithGroup(name string) slog.Handler {
	return asyncHandler{a.sink, a.h.WithGroup(name)}
}
