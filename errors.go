// This file holds the one way every handler answers an error: PortSIP's
// {"errors":[{"code","message"}]} shape with a stable code, and where a
// client must act differently a reason beside it.

package pbxauth

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// Error codes of the wire format. Clients branch on the code; the message is
// for people.
const (
	CodeInvalidArgument      = "INVALID_ARGUMENT"
	CodeUnauthorized         = "UNAUTHORIZED"
	CodeForbidden            = "FORBIDDEN"
	CodeNotFound             = "NOT_FOUND"
	CodeMethodNotAllowed     = "METHOD_NOT_ALLOWED"
	CodeConflict             = "CONFLICT"
	CodePayloadTooLarge      = "PAYLOAD_TOO_LARGE"
	CodeUnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"
	CodeTooManyRequests      = "TOO_MANY_REQUESTS"
	CodeInternal             = "INTERNAL"
	CodeUnavailable          = "UNAVAILABLE"
)

// apiError is an answer that is not a success. Handlers build one and hand it
// to writeError; nothing else writes error bodies.
type apiError struct {
	status     int
	code       string
	message    string
	retryAfter time.Duration // sets Retry-After when positive
	// reason refines code where a client must act differently; one of
	// the enum of "reason" in openapi.json, or "".
	reason string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func invalidArgument(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: CodeInvalidArgument, message: msg}
}

// errUnauthorized is the one answer to every failed credential check, so
// unknown users, wrong passwords and disabled accounts look alike.
var errUnauthorized = &apiError{status: http.StatusUnauthorized, code: CodeUnauthorized, message: "invalid credentials"}

var (
	errInvalidToken = &apiError{status: http.StatusUnauthorized, code: CodeUnauthorized, message: "invalid or expired token"}
	errInternal     = &apiError{status: http.StatusInternalServerError, code: CodeInternal, message: "internal error"}
	errNotFound     = &apiError{status: http.StatusNotFound, code: CodeNotFound, message: "not found"}
	errForbidden    = &apiError{status: http.StatusForbidden, code: CodeForbidden, message: "forbidden"}
	errBusy         = &apiError{status: http.StatusServiceUnavailable, code: CodeUnavailable, message: "server busy, try again", retryAfter: time.Second}
	// errUnavailable answers an outage of the Store; a database restart
	// takes a few seconds.
	errUnavailable = &apiError{status: http.StatusServiceUnavailable, code: CodeUnavailable, message: "service unavailable, try again", retryAfter: 2 * time.Second}
)

func tooManyRequests(retry time.Duration) *apiError {
	return &apiError{status: http.StatusTooManyRequests, code: CodeTooManyRequests, message: "too many requests", retryAfter: retry}
}

type errorBody struct {
	Errors []errorItem `json:"errors"`
}

type errorItem struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Reason  string `json:"reason,omitempty"`
}

// writeError answers e in the error shape.
func writeError(w http.ResponseWriter, e *apiError) {
	if e.retryAfter > 0 {
		secs := int64((e.retryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	writeJSON(w, e.status, errorBody{Errors: []errorItem{{Code: e.code, Message: e.message, Reason: e.reason}}})
}

// writeJSON answers v as JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own response types reach here; they always marshal.
		status, b = http.StatusInternalServerError, []byte(`{"errors":[{"code":"INTERNAL","message":"internal error"}]}`)
	}
	writeJSONBody(w, status, b)
}

// writeJSONBody answers b, which is JSON, with the given status.
func writeJSONBody(w http.ResponseWriter, status int, b []byte) {
	writeJSONBodyIn(w, status, b, new([2]string))
}

// writeJSONBodyIn is writeJSONBody with the answer's two header values
// kept in vs, which a caller may have allocated with other things.
func writeJSONBodyIn(w http.ResponseWriter, status int, b []byte, vs *[2]string) {
	// What h.Set would do, in one allocation instead of two and without
	// canonicalizing the names again: every answer comes here. Each slice
	// is capped at its value, so that an append by a host's wrapper copies.
	*vs = [2]string{"application/json", "nosniff"}
	h := w.Header()
	h["Content-Type"] = vs[0:1:1]
	h["X-Content-Type-Options"] = vs[1:2:2]
	w.WriteHeader(status)
	w.Write(b)
}

// jsonAnswer is the header values and the room for the body of an answer
// written with writeJSONBodyIn, made in one allocation.
type jsonAnswer struct {
	header [2]string
	body   [128]byte
}

// writeSecret answers v as JSON that carries a token: never cached.
func writeSecret(w http.ResponseWriter, v any) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, v)
}

// notFoundHandler and methodNotAllowed keep ServeMux's plain-text answers
// off the wire.
func notFoundHandler(w http.ResponseWriter, r *http.Request) { writeError(w, errNotFound) }

func methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, &apiError{status: http.StatusMethodNotAllowed, code: CodeMethodNotAllowed, message: "method not allowed"})
	}
}
