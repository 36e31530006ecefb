// This file gives every request an ID and decides its client once: the ID
// a trusted proxy sent in X-Request-ID when it has the documented shape,
// otherwise a fresh one. The ID goes on the answer, on the request's span
// (telemetry.go), into its events (events.go) and into every log line
// pbxauth writes for it (logger.go); hosts read it, the client address and
// the user with RequestInfoFrom.

package pbxauth

import (
	"context"
	"encoding/base32"
	"encoding/binary"
	"math/rand/v2"
	"net/http"
	"sync"
	"unsafe"
)

// RequestIDHeader is the header a request ID arrives in from a trusted
// proxy and is echoed in on every answer.
const RequestIDHeader = "X-Request-ID"

// requestIDKey is RequestIDHeader as http.Header keeps it: indexing the
// map with it skips canonicalizing the name on every request.
const requestIDKey = "X-Request-Id"

// maxRequestID is the longest request ID believed from a proxy.
const maxRequestID = 128

// RequestInfo is what pbxauth knows of a request: its ID, its client and,
// once a handler has learnt it, its user.
type RequestInfo struct {
	// ID is the X-Request-ID of a trusted proxy when it is 1–128
	// characters of [A-Za-z0-9._:-], otherwise a fresh random one.
	ID string
	// ClientIP is the client's address as Config.TrustedProxies decide it
	// (the one events and GET /auth/sessions show).
	ClientIP string
	// UserID is the user the request was about, once known: the caller of
	// a bearer token or cookie session, or the account a sign-in,
	// second-factor or reset step acted on (also when it failed).
	// Empty until then, and for requests that name nobody.
	UserID string
}

// request is the state of one request in its context. user is set once,
// by the handler or a goroutine it started, and may be read by the host's
// middleware meanwhile; clientText is the client as text, made once when
// first asked for. mu guards both (a mutex, not an atomic pointer, so that
// setting them allocates nothing more).
type request struct {
	id         string
	client     client
	mu         sync.Mutex
	user       string
	clientText string
	// header is the answer's header value, and idText the bytes of a
	// fresh id, kept here to cost no allocation of their own.
	header [1]string
	idText [idLen]byte
	// untraced is set, before the route's handler runs, when pbxauth
	// started no span for the request (telemetry.go).
	untraced bool
}

type requestKey struct{}

func requestFrom(ctx context.Context) *request {
	rq, _ := ctx.Value(requestKey{}).(*request)
	return rq
}

// RequestInfoFrom returns what pbxauth knows of the request of ctx: set by
// [Auth.Handler] for its routes, and for every request of a handler wrapped
// in [Auth.WithRequestInfo]. A host's request log reads it after the
// wrapped handler returns, when UserID is known. ok is false outside both.
func RequestInfoFrom(ctx context.Context) (info RequestInfo, ok bool) {
	rq := requestFrom(ctx)
	if rq == nil {
		return RequestInfo{}, false
	}
	rq.mu.Lock()
	defer rq.mu.Unlock()
	return RequestInfo{ID: rq.id, ClientIP: rq.clientIPLocked(), UserID: rq.user}, true
}

// clientIP is the client as events and the log show it.
func (rq *request) clientIP() string {
	rq.mu.Lock()
	defer rq.mu.Unlock()
	return rq.clientIPLocked()
}

func (rq *request) clientIPLocked() string {
	if rq.clientText == "" {
		rq.clientText = rq.client.String()
	}
	return rq.clientText
}

// WithRequestInfo wraps next, usually a host's whole server, so that every
// request gets its ID and client before next runs, and the answer its
// X-Request-ID; pbxauth's own routes inside next keep them. Hosts wrap
// their request log in it and read [RequestInfoFrom] there. Without it
// only the routes of [Auth.Handler] and [Auth.MicrosoftCallback] get IDs.
func (a *Auth) WithRequestInfo(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requestFrom(r.Context()) == nil {
			r = a.startRequest(w, r)
		}
		next.ServeHTTP(w, r)
	})
}

// startRequest gives r its ID and client and the answer its header.
func (a *Auth) startRequest(w http.ResponseWriter, r *http.Request) *http.Request {
	r, rq := withValue[requestKey, request](r)
	peer := peerAddr(r.RemoteAddr)
	if vs := r.Header[requestIDKey]; len(vs) == 1 && validRequestID(vs[0]) && a.trusted(peer) {
		rq.id = vs[0]
	} else {
		rq.id = newRequestID(&rq.idText)
	}
	rq.client = a.clientOf(r, peer) // after the ID: its warnings carry it
	rq.header[0] = rq.id
	w.Header()[requestIDKey] = rq.header[:]
	return r
}

// newRequestID is a fresh request ID: 26 base32 characters of 128 random
// bits, written into text, which the ID then shares (text is a request's
// own and never written again, so the string stays as it is; it spares
// every request an allocation). An ID needs to be unique, not secret: it
// comes from math/rand/v2's generator (ChaCha8, randomly seeded), which
// costs no system call.
func newRequestID(text *[idLen]byte) string {
	var raw [16]byte
	binary.LittleEndian.PutUint64(raw[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(raw[8:], rand.Uint64())
	idEncoding.Encode(text[:], raw[:])
	return unsafe.String(&text[0], len(text))
}

// idLen is the length of a fresh request ID.
const idLen = 26

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// validRequestID says whether id is 1–128 characters of [A-Za-z0-9._:-]:
// safe in a header, a log line and a span as it is.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestID {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

// requestUser records the user a request is about, once: the first one
// named (the bearer token's caller before anything the handler does).
func requestUser(ctx context.Context, userID string) {
	rq := requestFrom(ctx)
	if rq == nil || userID == "" {
		return
	}
	rq.mu.Lock()
	defer rq.mu.Unlock()
	if rq.user == "" {
		rq.user = userID
	}
}

// requestIDOf is the ID of the request of ctx, "" outside one.
func requestIDOf(ctx context.Context) string {
	if rq := requestFrom(ctx); rq != nil {
		return rq.id
	}
	return ""
}
