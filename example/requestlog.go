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
	"strconv"
	"time"

	"github.com/pbxauth/pbxauth"
)

// logRequests logs one line per request. It runs inside
// Auth.WithRequestInfo, which decides the request's ID and client; the user
// is known once h returns. The query is left out: it may carry a flow token
// or an OAuth code. What the line says is queued as it is; the writer makes
// the record and formats it, off the request's path.
func logRequests(h http.Handler, log *asyncLog) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		end := time.Now()
		info, _ := pbxauth.RequestInfoFrom(r.Context())
		log.request(requestLine{end: end, method: r.Method, path: r.URL.Path, status: sw.status,
			duration: end.Sub(start), info: info})
	})
}

// requestLine is what the log says of one request.
type requestLine struct {
	end          time.Time
	method, path string
	status       int
	duration     time.Duration
	info         pbxauth.RequestInfo
}

// appendText appends the line as slog.TextHandler (without options) would
// write its record, when every text in it is printable ASCII without
// space, '=' or '"' and so is written unquoted, as paths, addresses and
// IDs are; ok is false otherwise, and the record's handler writes it. It
// costs a fraction of the handler's formatting.
func (l requestLine) appendText(b []byte, st *stamps) (_ []byte, ok bool) {
	if !plain(l.method) || !plain(l.path) || !plain(l.info.ClientIP) || !plain(l.info.UserID) && l.info.UserID != "" || !plain(l.info.ID) {
		return b, false
	}
	b = append(b, "time="...)
	b = st.append(b, l.end)
	b = append(b, " level=INFO msg=request method="...)
	b = append(b, l.method...)
	b = append(b, " path="...)
	b = append(b, l.path...)
	b = append(b, " status="...)
	b = strconv.AppendInt(b, int64(l.status), 10)
	b = append(b, " duration="...)
	b = append(b, l.duration.String()...)
	b = append(b, " client="...)
	b = append(b, l.info.ClientIP...)
	if l.info.UserID != "" {
		b = append(b, " user="...)
		b = append(b, l.info.UserID...)
	}
	b = append(b, " request_id="...)
	b = append(b, l.info.ID...)
	return append(b, '\n'), true
}

// stamps writes the times of request lines as slog's text format does
// (RFC 3339, milliseconds), formatting each millisecond once: the lines of
// a busy second share a few dozen texts.
type stamps struct {
	ms   int64
	loc  *time.Location
	text []byte
}

// append appends t as slog's text format writes it.
func (st *stamps) append(b []byte, t time.Time) []byte {
	if ms := t.UnixMilli(); ms != st.ms || t.Location() != st.loc || st.text == nil {
		st.ms, st.loc = ms, t.Location()
		st.text = t.AppendFormat(st.text[:0], "2006-01-02T15:04:05.000Z07:00")
	}
	return append(b, st.text...)
}

// plain says whether slog's text format writes s unquoted: it is not
// empty, and printable ASCII without space, '=' or '"'.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' || c == '=' || c == '"' {
			return false
		}
	}
	return s != ""
}

// record is the line as a slog record (with no caller's program counter,
// which this log never shows).
func (l requestLine) record() slog.Record {
	r := slog.NewRecord(l.end, slog.LevelInfo, "request", 0)
	r.AddAttrs(slog.String("method", l.method), slog.String("path", l.path), slog.Int("status", l.status),
		slog.Duration("duration", l.duration), slog.String("client", l.info.ClientIP))
	if l.info.UserID != "" {
		r.AddAttrs(slog.String("user", l.info.UserID))
	}
	r.AddAttrs(slog.String("request_id", l.info.ID))
	return r
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

// warnEvents are the events logged at WARN: someone is guessing, a
// refresh token was stolen, or a passkey looks copied.
var warnEvents = map[pbxauth.EventKind]bool{
	pbxauth.EventLockout:           true,
	pbxauth.EventRefreshReuse:      true,
	pbxauth.EventPasskeySuspicious: true,
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
			{"method", e.Method}, {"reason", e.Reason}, {"session", e.SessionID}, {"actor", e.Actor}, {"change", e.Change}, {"passkey", e.PasskeyID},
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
