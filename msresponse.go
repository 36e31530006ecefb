// This file checks the authorization response that comes back to the
// Microsoft callback before anything is spent or sent on. The callback
// answers GET alone: a HEAD (a link preview, a prefetch) would run the
// sign-in and spend the state. A code longer than any provider issues is
// refused before the state is read, so it spends nothing. And once the
// tenant is known, RFC 9207's iss parameter must name the tenant's issuer
// before the code goes to the token endpoint, so that a response another
// provider produced (a mix-up) is never redeemed.

package pbxauth

import (
	"net/http"
	"net/url"

	"github.com/pbxauth/pbxauth/store"
)

// maxCodeBytes bounds the authorization code passed on to the token
// endpoint; Entra ID's are about 1 KiB.
const maxCodeBytes = 4 << 10

var errCodeTooLong = invalidArgument("code is longer than 4096 bytes")

// getOnly serves GET alone: ServeMux lets HEAD into a GET route, and
// buildMux does not list HEAD for it.
type getOnly struct{ http.Handler }

func (g getOnly) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(http.MethodGet)(w, r)
		return
	}
	g.Handler.ServeHTTP(w, r)
}

// checkAuthorizationCode refuses a code no provider issues.
func checkAuthorizationCode(q url.Values) *apiError {
	for _, c := range q["code"] {
		if len(c) > maxCodeBytes {
			return errCodeTooLong
		}
	}
	return nil
}

// checkResponseIssuer applies RFC 9207 to the authorization response q of
// the tenant whose settings are m, at its provider p: an iss parameter
// must be the tenant's issuer, and must be there when p's discovery
// promised it.
func checkResponseIssuer(q url.Values, p *msProvider, m *store.MS365) *msFailure {
	_, issuer, _ := m.Endpoints()
	got, sent := q["iss"]
	switch {
	case !sent && p.issParameter:
		return denied("the response has no iss parameter, which the provider's discovery promises (RFC 9207)")
	case sent && (len(got) != 1 || got[0] != issuer):
		return denied("the response's iss parameter is not the tenant's issuer (RFC 9207)")
	}
	return nil
}
