// Tests that the example's router answers every request exactly as a
// ServeMux with the API behind http.StripPrefix does: same status,
// headers and body, and the API's handler sees the same request.

package main

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRouteAPIAnswersAsServeMux(t *testing.T) {
	// The API echoes what it was given; the rest of the site is a page.
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "api %s path=%q raw=%q query=%q host=%q uri=%q value=%q", r.Method, r.URL.Path, r.URL.RawPath,
			r.URL.RawQuery, r.Host, r.RequestURI, r.PathValue("id"))
	})
	apiMux := http.NewServeMux()
	apiMux.Handle("GET /auth/sessions/{id}", api)
	apiMux.Handle("/", api)
	site := func() *http.ServeMux {
		m := http.NewServeMux()
		m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, "page %s", r.URL.Path) })
		return m
	}
	want := site()
	want.Handle("/api/", http.StripPrefix("/api", apiMux))
	got := routeAPI(site(), apiMux)

	// Raw requests, so that paths reach the server as a client may send them.
	for _, target := range []string{
		"/api/auth/user", "/api/auth/user?x=1&y=%2F", "/api/auth/sessions/abc-123", "/api/", "/api",
		"/apix", "/", "/index.html", "/api/auth/user/", "/api/auth/./user", "/api/auth/../user",
		"/api/../auth/user", "/api/auth/..", "/api/auth/.", "/api//auth/user", "/api/auth//user",
		"/api/a%2Fb", "/api/a%25", "/api/%61uth/user", "/api/a%20b", "/api/%C3%A4", "/api/.well-known/x",
		"/api/a.b~c_d-e", "/api/..%2Fx", "/api/%2E%2E/x", "http://other.example/api/auth/user",
		"/API/auth/user", "*",
	} {
		for _, method := range []string{"GET", "POST", "HEAD", "OPTIONS", "CONNECT"} {
			raw := method + " " + target + " HTTP/1.1\r\nHost: example.test\r\n\r\n"
			r1, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
			if err != nil {
				continue // not a request a server would serve
			}
			r2, _ := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
			w1, w2 := httptest.NewRecorder(), httptest.NewRecorder()
			want.ServeHTTP(w1, r1)
			got.ServeHTTP(w2, r2)
			if w1.Code != w2.Code || w1.Body.String() != w2.Body.String() || fmt.Sprint(w1.Header()) != fmt.Sprint(w2.Header()) {
				t.Errorf("%s %s:\n got %d %v %q\nwant %d %v %q", method, target,
					w2.Code, w2.Header(), w2.Body, w1.Code, w1.Header(), w1.Body)
			}
		}
	}
}

// TestRouteAPIStripsACopy checks that the API's request is a copy: the
// request the router was given keeps its path.
func TestRouteAPIStripsACopy(t *testing.T) {
	var seen *http.Request
	h := routeAPI(http.NewServeMux(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = r }))
	r := httptest.NewRequest("GET", "/api/auth/user", nil)
	h.ServeHTTP(httptest.NewRecorder(), r)
	if seen == nil || seen == r || seen.URL == r.URL || seen.URL.Path != "/auth/user" || r.URL.Path != "/api/auth/user" {
		t.Fatalf("the API saw %+v for %+v", seen, r)
	}
}
