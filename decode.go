// This file holds the request decoding every JSON endpoint shares: media
// type, size limit, strict syntax (no duplicate keys, no trailing data) and
// field types, each failure mapped to its documented status.

package pbxauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"unicode"
	"unicode/utf8"
)

// maxBody is the largest request body accepted (DESIGN: 64 KiB → 413).
const maxBody = 64 << 10

var (
	errUnsupportedMedia = &apiError{status: http.StatusUnsupportedMediaType, code: CodeUnsupportedMediaType, message: "Content-Type must be application/json"}
	errTooLarge         = &apiError{status: http.StatusRequestEntityTooLarge, code: CodePayloadTooLarge, message: "request body too large"}
)

// decodeJSON reads r's body into dst, a pointer to a request struct.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) *apiError {
	if !hasMediaType(r, "application/json") {
		return errUnsupportedMedia
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return bodyError(err, "could not read the request body")
	}
	return unmarshalStrict(body, dst)
}

// hasMediaType reports whether r's Content-Type, parameters aside, is want.
func hasMediaType(r *http.Request, want string) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == want
}

// bodyError answers a failure to read a body limited by http.MaxBytesReader:
// 413 past the limit, else 400 with msg.
func bodyError(err error, msg string) *apiError {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errTooLarge
	}
	return invalidArgument(msg)
}

// flowTokenRequest is a body that carries only a flow token: POST
// /auth/send_otp and POST /auth/sign_in/microsoft/token.
type flowTokenRequest struct {
	Token string `json:"token"`
}

// decodeFlowToken reads a flowTokenRequest and checks its token field.
func decodeFlowToken(w http.ResponseWriter, r *http.Request) (string, *apiError) {
	var req flowTokenRequest
	if e := decodeJSON(w, r, &req); e != nil {
		return "", e
	}
	return req.Token, checkTokenField("token", req.Token)
}

// unmarshalStrict decodes one JSON object into dst, refusing what
// encoding/json lets through: duplicated keys (which it resolves silently,
// last one wins, and case-insensitively) and data after the value.
func unmarshalStrict(body []byte, dst any) *apiError {
	if e := checkSyntax(body); e != nil {
		return e
	}
	if err := json.Unmarshal(body, dst); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return invalidArgument(typeErr.Field + " has the wrong type")
		}
		return invalidArgument("request body must be a JSON object")
	}
	return nil
}

// checkSyntax walks the tokens of body once: it must be a single JSON object
// with no key repeated (compared as encoding/json matches fields: see
// foldKey) at any depth.
func checkSyntax(body []byte) *apiError {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return invalidArgument("request body must be a JSON object")
	}
	if e := checkObject(dec, 1); e != nil {
		return e
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalidArgument("unexpected data after the JSON object")
	}
	return nil
}

// maxDepth bounds nesting so a hostile body cannot recurse deeply.
const maxDepth = 32

var errMalformed = invalidArgument("malformed JSON")

// checkObject consumes the members of an object whose '{' was read.
func checkObject(dec *json.Decoder, depth int) *apiError {
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return errMalformed
		}
		key, _ := tok.(string)
		folded := foldKey(key)
		if seen[folded] {
			return invalidArgument("duplicated key " + quoteField(key))
		}
		seen[folded] = true
		if e := checkValue(dec, depth); e != nil {
			return e
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return errMalformed
	}
	return nil
}

// checkValue consumes one value of any kind.
func checkValue(dec *json.Decoder, depth int) *apiError {
	tok, err := dec.Token()
	if err != nil {
		return errMalformed
	}
	switch tok {
	case json.Delim('{'):
		if depth >= maxDepth {
			return invalidArgument("JSON nested too deeply")
		}
		return checkObject(dec, depth+1)
	case json.Delim('['):
		if depth >= maxDepth {
			return invalidArgument("JSON nested too deeply")
		}
		for dec.More() {
			if e := checkValue(dec, depth+1); e != nil {
				return e
			}
		}
		if _, err := dec.Token(); err != nil {
			return errMalformed
		}
	}
	return nil
}

// foldKey folds a key exactly as encoding/json folds the names it matches
// fields by (its foldName: bytes.EqualFold), so two keys that could fill
// one field fold alike. Lower-casing is not enough: "ſ" (U+017F) and "K"
// (U+212A, Kelvin) match "s" and "k" in encoding/json, and
// {"username":"x","uſername":"frank"} would sign in as frank.
func foldKey(key string) string {
	out := make([]byte, 0, len(key))
	for _, r := range key {
		if r < utf8.RuneSelf {
			if 'a' <= r && r <= 'z' {
				r -= 'a' - 'A'
			}
			out = append(out, byte(r))
			continue
		}
		out = utf8.AppendRune(out, foldRune(r))
	}
	return string(out)
}

// foldRune returns the smallest rune of r's simple fold orbit, as
// encoding/json's foldRune does.
func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}

// quoteField names a client-chosen key in a message without echoing a huge
// or odd string back.
func quoteField(key string) string {
	if len(key) > 64 {
		key = key[:64] + "…"
	}
	b, _ := json.Marshal(key)
	return string(b)
}
