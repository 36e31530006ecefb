// This file serves the sign-in page at / and the reset page at /reset, the
// target of the reset mail's link: static files embedded in the binary, no
// build step. The pages talk to the API under /api/.

package main

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed web
var web embed.FS

// pageCSP lets the page load only its own files and call only its own
// origin, and forbids framing it (clickjacking). form-action stays open:
// Microsoft sign-in posts a form whose answer redirects to the tenant's
// identity provider.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
	"base-uri 'none'; frame-ancestors 'none'"

// resetPath is the reset page, where the reset mail's link leads (the
// sign-in page's "Forgot password?" names it in its callback_url).
const resetPath = "/reset"

// page serves the sign-in page, the reset page and their scripts and style.
func page() http.Handler {
	files, err := fs.Sub(web, "web")
	if err != nil {
		panic(err) // the embedded tree always has web/
	}
	fileServer := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		// Embedded files carry no modification time: ask browsers to
		// revalidate so a new build is never hidden behind a cached script.
		pageHeaders(w.Header(), pageCSP, "no-cache")
		if r.URL.Path == resetPath {
			http.ServeFileFS(w, r, files, "reset.html")
			return
		}
		fileServer.ServeHTTP(w, r)
	})
}

// pageHeaders sets the headers of every HTML page the example serves: its
// CSP, its caching, no content sniffing and no referrer.
func pageHeaders(h http.Header, csp, cacheControl string) {
	h.Set("Content-Security-Policy", csp)
	h.Set("Cache-Control", cacheControl)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}
