package idpfault

// Answers a test gives the provider's endpoints.

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
)

// Tokens answers a token request with an access token and idToken.
func Tokens(idToken string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"access_token": "idpfault-access", "token_type": "Bearer", "expires_in": 3600, "id_token": idToken})
	})
}

// Status answers with status, a Content-Type and body.
func Status(status int, contentType, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
}

// OAuthError answers with status and an OAuth error body (RFC 6749 §5.2).
func OAuthError(status int, code, description string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, status, map[string]string{"error": code, "error_description": description})
	})
}

// Redirect answers 307 Temporary Redirect to location: a client that
// follows it sends the same request, body and Authorization header
// included, to location.
func Redirect(location string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, location, http.StatusTemporaryRedirect)
	})
}

// Request is a token request as an echoing provider sees it.
type Request struct {
	// Dump is the request as sent: headers (Authorization included) and
	// the form-encoded body.
	Dump string
	// Secret is the client secret as the client meant it: from the
	// Authorization header (whose parts are form-encoded, RFC 6749
	// §2.3.1) or the form's client_secret.
	Secret string
	// Authorization is the Authorization header as sent.
	Authorization string
}

// Echo answers a token request with what say makes of it: as the
// error_description of an OAuth error invalid_grant when oauth, else as an
// HTML page, with status either way.
func Echo(status int, oauth bool, say func(Request) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dump, err := httputil.DumpRequest(r, true)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req := Request{Dump: string(dump), Authorization: r.Header.Get("Authorization")}
		if _, secret, ok := r.BasicAuth(); ok {
			req.Secret, _ = url.QueryUnescape(secret)
		} else if err := r.ParseForm(); err == nil {
			req.Secret = r.PostForm.Get("client_secret")
		}
		if oauth {
			OAuthError(status, "invalid_grant", say(req)).ServeHTTP(w, r)
			return
		}
		Status(status, "text/html", "<html><body><pre>"+say(req)+"</pre></body></html>").ServeHTTP(w, r)
	})
}

// Hold holds every request until Release, then answers it with next (or
// ends it when the client gives up first).
type Hold struct {
	next    http.Handler
	arrived chan struct{}
	release chan struct{}
	once    sync.Once
}

// NewHold returns a Hold that answers with next once released.
func NewHold(next http.Handler) *Hold {
	return &Hold{next: next, arrived: make(chan struct{}, 1024), release: make(chan struct{})}
}

// Arrived receives once for each request that arrived.
func (h *Hold) Arrived() <-chan struct{} { return h.arrived }

// Release lets every held request, and every later one, through.
func (h *Hold) Release() { h.once.Do(func() { close(h.release) }) }

func (h *Hold) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	select {
	case h.arrived <- struct{}{}:
	default:
	}
	select {
	case <-h.release:
		h.next.ServeHTTP(w, r)
	case <-r.Context().Done():
	}
}
