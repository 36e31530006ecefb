// This file serves the project's own OpenAPI document (openapi.json): the
// seed spec's operations with the answers it leaves out, and every
// extension route.

package pbxauth

import (
	_ "embed"
	"net/http"
	"slices"
)

//go:embed openapi.json
var openAPIDocument []byte

// OpenAPI returns the OpenAPI 3.1 document of everything the Handler
// serves, as served at GET {mount}/openapi.json: for client generators and
// for validating answers in a host's own tests.
func OpenAPI() []byte { return slices.Clone(openAPIDocument) }

// serveOpenAPI serves GET /openapi.json.
func (a *Auth) serveOpenAPI(w http.ResponseWriter, r *http.Request) *apiError {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age=3600")
	w.Write(openAPIDocument)
	return nil
}
