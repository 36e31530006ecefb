package pbxauth_test

import (
	"fmt"
	"log"
	"net/http"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/memstore"
)

// Mounting the API under /api and protecting a route of the host.
func Example() {
	st := memstore.New()
	a, err := pbxauth.New(pbxauth.Config{Store: st, PublicURL: "https://pbx.example.com:8887/api"})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", http.StripPrefix("/api", a.Handler()))
	mux.Handle("GET /api/extensions", a.RequireBearer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := pbxauth.PrincipalFrom(r.Context())
		fmt.Fprintln(w, "hello", p.Username)
	})))
	_ = mux // http.ListenAndServe(":8887", mux)
}
