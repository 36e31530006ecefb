// This file holds the two bearer checks pbxauth is measured against: the bare
// minimum an opaque token needs (SHA-256 and one map lookup) and the
// stateless choice of other Go auth libraries (an HS256 JWT).

package bench

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/pbxauth/pbxauth/store"
)

// caller is what the minimal check knows of a token's owner.
type caller struct{ userID string }

type callerKey struct{}

// minimalCheck is the least a middleware can do with an opaque token: read
// the header, hash the token, look the hash up in a map. With carry it also
// hands the caller to the next handler in the request's context, as
// RequireBearer must (http.Request.WithContext copies the request).
func minimalCheck(ts *tokenSet, carry bool) func(http.Handler) http.Handler {
	callers := make([]caller, users)
	for i := range callers {
		callers[i].userID = userID(i)
	}
	live := make(map[store.Hash]*caller, len(ts.tokens))
	for i, tok := range ts.tokens {
		live[sha256.Sum256([]byte(tok))] = &callers[i%users]
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			c := live[sha256.Sum256([]byte(tok))]
			if !ok || c == nil {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			if carry {
				r = r.WithContext(context.WithValue(r.Context(), callerKey{}, c))
			}
			next.ServeHTTP(w, r)
		})
	}
}

// jwtTokens signs n HS256 JWTs with the registered claims a typical access
// token carries (sub, iat, exp) and returns them as Authorization values,
// with the middleware that verifies them.
func jwtTokens(n int) ([]string, func(http.Handler) http.Handler, error) {
	key := make([]byte, 32)
	rand.Read(key)
	now := time.Now()
	bearers := make([]string, n)
	for i := range bearers {
		claims := jwt.RegisteredClaims{
			Subject:   userID(i),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
		}
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
		if err != nil {
			return nil, nil, err
		}
		bearers[i] = "Bearer " + s
	}
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired())
	keyFunc := func(*jwt.Token) (any, error) { return key, nil }
	wrap := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			var claims jwt.RegisteredClaims
			if _, err := parser.ParseWithClaims(tok, &claims, keyFunc); !ok || err != nil {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	return bearers, wrap, nil
}
