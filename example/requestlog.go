// This file is what the example's log says of its traffic: one line per
// request (method, path without query, status, duration, client address,
// user ID when known, request ID) and one per pbxauth event, at WARN for
// those an operator must look at. Neither ever holds a secret: no query, no
// body, no header, and events carry none.

package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/pbxauth/pbxauth"
)

// logRequests logs one line per request. It runs inside
// Auth.WithRequestInfo, which decides the request's ID and client; the user
// is known once h returns. The query is left out: it may carry a flow token
// or an OAuth code.
func logRequests(h http.Handler, logger *slog.Logger) http.Handler {
	lh := logger.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		ctx, end := r.Context(), time.Now()
		if !lh.Enabled(ctx, slog.LevelInfo) {
			return
		}
		info, _ := pbxauth.RequestInfoFrom(ctx)
		// A record made here, not through Logger.Info, skips looking up
		// the caller's program counter, which this log never shows.
		rec := slog.NewRecord(end, slog.LevelInfo, "request", 0)
		rec.AddAttrs(slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", sw.status), slog.Duration("duration", end.Sub(start)),
			slog.String("client", info.ClientIP))
		if info.UserID != "" {
			rec.AddAttrs(slog.String("user", info.UserID))
		}
		rec.AddAttrs(slog.String("request_id", info.ID))
		lh.Handle(ctx, rec)
	})
}

// statusRecorder remembers the status of an answer.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// warnEvents are the events logged at WARN: someone is guessing, or a
// refresh token was stolen.
var warnEvents = map[pbxauth.EventKind]bool{
	pbxauth.EventLockout:      true,
	pbxauth.EventRefreshReuse: true,
}

// logEvents returns a Config.OnEvent that logs each event: at WARN those of
// warnEvents, at INFO the others, with every field that is set.
func logEvents(logger *slog.Logger) func(context.Context, pbxauth.Event) {
	return func(ctx context.Context, e pbxauth.Event) {
		level := slog.LevelInfo
		if warnEvents[e.Kind] {
			level = slog.LevelWarn
		}
		attrs := []slog.Attr{slog.String("event", string(e.Kind))}
		for _, f := range [...]struct{ key, value string }{
			{"user", e.UserID}, {"tenant", e.TenantID}, {"username", e.Username}, {"client", e.ClientIP},
			{"method", e.Method}, {"reason", e.Reason}, {"session", e.SessionID},
		} {
			if f.value != "" {
				attrs = append(attrs, slog.String(f.key, f.value))
			}
		}
		if e.QR {
			attrs = append(attrs, slog.Bool("qr", true))
		}
		if e.RequestID != "" {
			attrs = append(attrs, slog.String("request_id", e.RequestID))
		}
		logger.LogAttrs(ctx, level, "event", attrs...)
	}
}
