package main

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestPage(t *testing.T) {
	h := page()
	for _, tc := range []struct {
		method, path string
		status       int
		ctype        string
	}{
		{"GET", "/", 200, "text/html"},
		{"HEAD", "/", 200, "text/html"},
		{"GET", "/app.js", 200, "text/javascript"},
		{"GET", "/common.js", 200, "text/javascript"},
		{"GET", "/agent.js", 200, "text/javascript"},
		{"GET", "/reset?token=abc", 200, "text/html"},
		{"HEAD", "/reset", 200, "text/html"},
		{"GET", "/reset.js", 200, "text/javascript"},
		{"POST", "/reset", 405, ""},
		{"GET", "/style.css", 200, "text/css"},
		{"GET", "/nothing.js", 404, ""},
		{"POST", "/", 405, ""},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
		if w.Code != tc.status || !strings.HasPrefix(w.Header().Get("Content-Type"), tc.ctype) {
			t.Errorf("%s %s: %d %q", tc.method, tc.path, w.Code, w.Header().Get("Content-Type"))
		}
		if w.Code == 200 && (w.Header().Get("Content-Security-Policy") != pageCSP || w.Header().Get("X-Content-Type-Options") != "nosniff") {
			t.Errorf("%s %s: headers %v", tc.method, tc.path, w.Header())
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	for _, want := range []string{`<label for="domain">`, `<label for="username">`, `<label for="password">`, `aria-live`, `id="forgot-start"`} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/reset", nil))
	for _, want := range []string{`<label for="new-password">`, `<label for="new-password-again">`, `autocomplete="new-password"`, `src="reset.js"`, `aria-live`} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("the reset page lacks %s", want)
		}
	}
}
