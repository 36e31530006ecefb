package postgres_test

import (
	"context"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/sqlstore/postgres"
)

// Sign-ins and browser sessions kept in PostgreSQL, so that every instance
// behind a load balancer knows them, and an admin front end on another
// origin that may POST to /login and /logout.
func Example_browserSessions() {
	ctx := context.Background()
	st, err := postgres.Open(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	go st.RunJanitor(ctx, 0, nil) // also deletes expired browser sessions

	sm := scs.New()
	if sm.Store, err = st.SessionStore(); err != nil {
		log.Fatal(err)
	}
	sm.Cookie.Name = "__Host-pbx_session"
	sm.Cookie.Secure = true // required, unless Config.InsecureCookies
	sm.IdleTimeout = 2 * time.Hour
	sm.Lifetime = 12 * time.Hour

	a, err := pbxauth.New(pbxauth.Config{
		Store:          st,
		PublicURL:      "https://pbx.example.com/api",
		SessionManager: sm,
		TrustedOrigins: []string{"https://admin.example.com"},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", http.StripPrefix("/api", a.Handler()))
	_ = mux // http.ListenAndServe(":8443", mux) behind TLS
}
