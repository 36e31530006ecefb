// This file holds pbxauth's logger: Config.Logger's handler with the ID of
// the request a line is written for, so that every line of a request can
// be found by the ID its answer carried.

package pbxauth

import (
	"context"
	"log/slog"
)

// requestLogHandler adds request_id to every record written with the
// context of a request.
type requestLogHandler struct{ slog.Handler }

func (h requestLogHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := requestIDOf(ctx); id != "" {
		r = r.Clone() // the record is the caller's
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestLogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestLogHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestLogHandler) WithGroup(name string) slog.Handler {
	return requestLogHandler{h.Handler.WithGroup(name)}
}

// newLogger is pbxauth's logger over l.
func newLogger(l *slog.Logger) *slog.Logger { return slog.New(requestLogHandler{l.Handler()}) }
