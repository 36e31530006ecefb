// Package apitest drives a mounted pbxauth API over real HTTP in tests and
// checks every answer against the project's OpenAPI document
// (pbxauth.OpenAPI, a superset of the seed spec): 2xx bodies
// against their schemas (strictly: no field the schema does not name), and
// every error body against the {"errors":[{"code","message"}]} shape.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/pbxauth/pbxauth"
)

// Prefix is where tests mount the API, as the example server does.
const Prefix = "/api"

var router, reasons = mustRouter()

func mustRouter() (routers.Router, map[string]bool) {
	doc, err := openapi3.NewLoader().LoadFromData(pbxauth.OpenAPI())
	if err != nil {
		panic(err)
	}
	doc.Servers = openapi3.Servers{{URL: "http://pbxauth.test" + Prefix}}
	strict(doc)
	r, err := legacy.NewRouter(doc)
	if err != nil {
		panic(err)
	}
	return r, reasonsOf(doc)
}

// reasonsOf returns the reasons an error item may carry: the enum of its
// reason property.
func reasonsOf(doc *openapi3.T) map[string]bool {
	set := map[string]bool{}
	item := doc.Components.Schemas["Error"].Value.Properties["errors"].Value.Items.Value
	for _, v := range item.Properties["reason"].Value.Enum {
		set[v.(string)] = true
	}
	return set
}

// strict forbids properties the schemas of success answers do not name, so
// a misspelt field fails validation instead of passing as an extra one.
func strict(doc *openapi3.T) {
	no := false
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for code, resp := range op.Responses.Map() {
				if !strings.HasPrefix(code, "2") || resp.Value == nil {
					continue
				}
				for _, mt := range resp.Value.Content {
					closeSchema(mt.Schema, &no)
				}
			}
		}
	}
}

func closeSchema(ref *openapi3.SchemaRef, no *bool) {
	if ref == nil || ref.Value == nil {
		return
	}
	s := ref.Value
	if s.Type.Is("object") || len(s.Properties) > 0 {
		s.AdditionalProperties = openapi3.AdditionalProperties{Has: no}
	}
	for _, alt := range s.OneOf {
		closeSchema(alt, no)
	}
	for _, prop := range s.Properties {
		closeSchema(prop, no)
	}
	closeSchema(s.Items, no)
}

// Validate checks one answer of the API to req (a request to a path under
// Prefix). Answers of routes the spec does not list are checked for the
// error shape only.
func Validate(req *http.Request, status int, header http.Header, body []byte) error {
	if req.Method == http.MethodHead {
		// A HEAD answer has no body (RFC 9110 §9.3.2): only an error's
		// Content-Type can be checked.
		if ct := header.Get("Content-Type"); status >= 400 && !strings.HasPrefix(ct, "application/json") {
			return fmt.Errorf("error answer with Content-Type %q", ct)
		}
		return nil
	}
	if status >= 400 {
		if err := checkErrorShape(header, body); err != nil {
			return err
		}
	}
	u := *req.URL
	u.Scheme, u.Host = "http", "pbxauth.test"
	r2 := req.Clone(context.Background())
	r2.URL = &u
	route, params, err := router.FindRoute(r2)
	if err != nil {
		return nil // an extension route, or a 404 for an unknown path
	}
	in := &openapi3filter.RequestValidationInput{Request: r2, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	return openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: false, MultiError: true},
	})
}

// checkErrorShape insists on exactly {"errors":[{"code":"...","message":"..."}]},
// each item with at most a "reason" of the document's enum beside.
func checkErrorShape(header http.Header, body []byte) error {
	if ct := header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("error answer with Content-Type %q", ct)
	}
	var e struct {
		Errors []map[string]any `json:"errors"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return fmt.Errorf("error body %q: %v", body, err)
	}
	if len(e.Errors) == 0 {
		return fmt.Errorf("error body %q has no errors", body)
	}
	for _, item := range e.Errors {
		code, ok1 := item["code"].(string)
		msg, ok2 := item["message"].(string)
		fields := 2
		if reason, ok := item["reason"]; ok {
			if s, _ := reason.(string); !reasons[s] {
				return fmt.Errorf("error item %v has a reason not in the document's enum", item)
			}
			fields++
		}
		if !ok1 || !ok2 || len(item) != fields || code == "" || msg == "" {
			return fmt.Errorf("error item %v is not {code, message} with an optional reason", item)
		}
	}
	return nil
}

// Client sends requests to a test server and validates every answer.
type Client struct {
	T    testing.TB
	URL  string // the server's base URL, without Prefix
	HTTP *http.Client
}

// Serve starts an httptest.Server with h mounted under Prefix (and extra, if
// not nil, serving everything else), closed at the end of the test.
func Serve(t testing.TB, h http.Handler, extra http.Handler) *Client {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(Prefix+"/", http.StripPrefix(Prefix, h))
	if extra != nil {
		mux.Handle("/", extra)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return NewClient(t, srv.URL)
}

// NewClient returns a client of a server at url (no trailing slash) that
// keeps cookies and does not follow redirects.
func NewClient(t testing.TB, url string) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{T: t, URL: url, HTTP: &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Response is an answer, read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body as an object (an empty map when it is not one).
func (r *Response) JSON() map[string]any {
	m := map[string]any{}
	json.Unmarshal(r.Body, &m)
	return m
}

// String returns the field of the body's object as a string.
func (r *Response) String(field string) string {
	s, _ := r.JSON()[field].(string)
	return s
}

// CurrentClientIP returns the client_ip that GET /auth/sessions lists for
// the sign-in of access (the one marked current), or fails the test.
func (c *Client) CurrentClientIP(access string) string {
	c.T.Helper()
	l := c.Do("GET", "/auth/sessions", nil, Bearer(access)...)
	sessions, _ := l.JSON()["sessions"].([]any)
	for _, s := range sessions {
		if s, _ := s.(map[string]any); s["current"] == true {
			ip, _ := s["client_ip"].(string)
			return ip
		}
	}
	c.T.Fatalf("no current sign-in listed: %d %s", l.Status, l.Body)
	return ""
}

// Code returns the error code of an error answer, "" for others.
func (r *Response) Code() string { return r.firstError().Code }

// Reason returns the reason of an error answer, "" for others or none.
func (r *Response) Reason() string { return r.firstError().Reason }

// errorItem is an element of an error answer's "errors".
type errorItem struct{ Code, Reason string }

// firstError returns the first error item of an error answer, zero for
// others.
func (r *Response) firstError() errorItem {
	var e struct {
		Errors []errorItem `json:"errors"`
	}
	json.Unmarshal(r.Body, &e)
	if len(e.Errors) == 0 {
		return errorItem{}
	}
	return e.Errors[0]
}

// Do sends a request to path (under Prefix). body is sent as is when it is
// a string or []byte, else as JSON; headers are name, value pairs and
// override the default Content-Type of application/json.
func (c *Client) Do(method, path string, body any, headers ...string) *Response {
	c.T.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.T.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, c.URL+Prefix+path, rd)
	if err != nil {
		c.T.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.Send(req)
}

// Send sends req and validates the answer.
func (c *Client) Send(req *http.Request) *Response {
	c.T.Helper()
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.T.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.T.Fatalf("%s %s: reading body: %v", req.Method, req.URL.Path, err)
	}
	r := &Response{Status: resp.StatusCode, Header: resp.Header, Body: body}
	if strings.HasPrefix(req.URL.Path, Prefix+"/") {
		vreq := req.Clone(context.Background())
		vreq.URL.Path = strings.TrimPrefix(req.URL.Path, Prefix)
		vreq.URL.Path = Prefix + vreq.URL.Path
		if err := Validate(vreq, r.Status, r.Header, r.Body); err != nil {
			c.T.Errorf("%s %s → %d %s: answer does not validate: %v", req.Method, req.URL.Path, r.Status, body, err)
		}
	}
	return r
}

// Bearer returns the header pair that sends an access token.
func Bearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

// Race runs do(0) … do(n-1) in n goroutines released together and returns
// how many answers had each status.
func Race(n int, do func(i int) *Response) map[int]int {
	var (
		mu     sync.Mutex
		counts = map[int]int{}
		wg     sync.WaitGroup
	)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			r := do(i)
			mu.Lock()
			counts[r.Status]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	return counts
}
