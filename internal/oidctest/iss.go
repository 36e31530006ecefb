package oidctest

// RFC 9207's iss parameter: zitadel does not send it, so the provider adds
// it to every redirect that leaves for a client, with whatever value the
// test set, and discovery says so only when Options ask.

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// issParameter adds the iss parameter to the authorization responses of next.
type issParameter struct {
	next   http.Handler
	issuer string

	mu  sync.Mutex
	iss string // "" adds none
}

func (p *issParameter) set(iss string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.iss = iss
}

func (p *issParameter) get() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.iss
}

func (p *issParameter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	iss := p.get()
	if iss == "" {
		p.next.ServeHTTP(w, r)
		return
	}
	p.next.ServeHTTP(&issWriter{ResponseWriter: w, issuer: p.issuer, iss: iss}, r)
}

// issWriter rewrites the Location of a redirect to a client.
type issWriter struct {
	http.ResponseWriter
	issuer, iss string
}

func (w *issWriter) WriteHeader(status int) {
	h := w.Header()
	loc := h.Get("Location")
	if status >= 300 && status < 400 && loc != "" && !strings.HasPrefix(loc, w.issuer+"/") {
		if u, err := url.Parse(loc); err == nil {
			q := u.Query()
			q.Set("iss", w.iss)
			u.RawQuery = q.Encode()
			h.Set("Location", u.String())
		}
	}
	w.ResponseWriter.WriteHeader(status)
}
