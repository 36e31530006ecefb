package oidctest

// The token endpoint wrapper: it records what each client sent and what the
// provider answered.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// TokenRequest is what a client sent to the token endpoint.
type TokenRequest struct {
	BasicAuth       bool           // an Authorization: Basic header was sent
	FormSecret      bool           // client_secret was in the form
	CodeVerifier    bool           // code_verifier (PKCE) was in the form
	AssertionType   string         // client_assertion_type
	AssertionHeader map[string]any // decoded JOSE header of client_assertion (alg, x5t, x5t#S256, ...)
	AssertionClaims map[string]any // decoded claims of client_assertion (an unverified copy, for assertions)
	Status          int            // the provider's answer status
	Error           string         // the provider's OAuth "error" field when it refused
}

// maxTokenBody bounds what the recorder reads; a token request is a few KB.
const maxTokenBody = 1 << 20

type tokenRecorder struct {
	next http.Handler

	mu   sync.Mutex
	seen []TokenRequest
}

func (t *tokenRecorder) requests() []TokenRequest {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]TokenRequest(nil), t.seen...)
}

func (t *tokenRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxTokenBody))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	form, _ := url.ParseQuery(string(body))

	_, _, basic := r.BasicAuth()
	rec := TokenRequest{
		BasicAuth:     basic,
		FormSecret:    form.Has("client_secret"),
		CodeVerifier:  form.Has("code_verifier"),
		AssertionType: form.Get("client_assertion_type"),
	}
	if a := form.Get("client_assertion"); a != "" {
		rec.AssertionHeader, rec.AssertionClaims = decodeJWT(a)
	}

	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	t.next.ServeHTTP(sw, r)

	rec.Status = sw.status
	if sw.status != http.StatusOK {
		var answer struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(sw.body.Bytes(), &answer)
		rec.Error = answer.Error
	}
	t.mu.Lock()
	t.seen = append(t.seen, rec)
	t.mu.Unlock()
}

// decodeJWT returns the header and claims of a compact JWS without verifying
// it, nil for a part that does not decode.
func decodeJWT(token string) (header, claims map[string]any) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, nil
	}
	return decodeSegment(parts[0]), decodeSegment(parts[1])
}

func decodeSegment(seg string) map[string]any {
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

// statusWriter keeps the status and a copy of the body of an answer.
type statusWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	w.body.Write(p)
	return w.ResponseWriter.Write(p)
}
