// Tests of the example's log writer, in the package: they look into its
// queue to know when it is full.

package main

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// stuckWriter blocks every Write until release is closed, and says when
// the first one began.
type stuckWriter struct {
	stuck, release chan struct{}
	once           sync.Once
	mu             sync.Mutex
	b              strings.Builder
}

func (w *stuckWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.stuck) })
	<-w.release
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// TestLogSinkDropsRatherThanBlocks: while the output is stuck, logging
// never blocks; what does not fit in the queue is dropped, counted, and
// the count logged once the output moves again.
func TestLogSinkDropsRatherThanBlocks(t *testing.T) {
	w := &stuckWriter{stuck: make(chan struct{}), release: make(chan struct{})}
	l := newAsyncLog(w, nil)
	logger, closeLog := l.Logger, l.Close
	long := strings.Repeat("x", 1000)
	i := 0
	for ; ; i++ { // until the buffered writer is full and the writer stuck
		select {
		case <-w.stuck:
		default:
			logger.Info("line", "n", i, "pad", long)
			continue
		}
		break
	}
	queued, before := len(l.sink.queue), l.sink.dropped.Load()
	const extra = 100
	for j := range logQueue - queued + extra {
		logger.Info("line", "n", i+j)
	}
	if got := l.sink.dropped.Load() - before; got != extra {
		t.Fatalf("dropped %d lines, want %d", got, extra)
	}
	close(w.release)
	closeLog()
	logger.Info("after close") // dropped, without blocking or panicking
	out := w.b.String()
	if !strings.HasSuffix(out, fmt.Sprintf(" dropped_total=%d\n", before+extra)) {
		t.Errorf("no line counting the drops at the end:\n%s", out[max(0, len(out)-500):])
	}
	if n, want := strings.Count(out, "msg=line "), i-int(before)+logQueue-queued; n != want {
		t.Errorf("%d lines written, want %d", n, want)
	}
}

// TestLogSinkKeepsAttrsAndGroups: records keep the attributes and groups
// of their logger and its level, and close writes out what is queued.
func TestLogSinkKeepsAttrsAndGroups(t *testing.T) {
	var b strings.Builder
	l := newAsyncLog(&b, &slog.HandlerOptions{Level: slog.LevelWarn})
	l.Info("hidden")
	l.With("a", 1).WithGroup("g").Warn("shown", "b", 2)
	l.Close()
	if got := b.String(); !strings.HasSuffix(got, "level=WARN msg=shown a=1 g.b=2\n") || strings.Contains(got, "hidden") {
		t.Errorf("log:\n%s", got)
	}
}
