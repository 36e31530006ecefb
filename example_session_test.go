package pbxauth_test

import (
	"database/sql"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/alexedwards/scs/postgresstore"
	"github.com/alexedwards/scs/v2"
	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/memstore"
)

// Browser sessions kept in PostgreSQL, so that every instance behind a load
// balancer knows them, and an admin front end on another origin that may
// POST to /login and /logout.
func Example_browserSessions() {
	// With a PostgreSQL driver imported (github.com/jackc/pgx/v5/stdlib
	// registers "pgx"); the database needs scs's "sessions" table (see
	// scs/postgresstore).
	db, err := sql.Open("pgx", os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	sm := scs.New()
	sm.Store = postgresstore.New(db)
	sm.Cookie.Name = "__Host-pbx_session"
	sm.Cookie.Secure = true // required, unless Config.InsecureCookies
	sm.IdleTimeout = 2 * time.Hour
	sm.Lifetime = 12 * time.Hour

	a, err := pbxauth.New(pbxauth.Config{
		Store:          memstore.New(), // a shared Store too, in real life
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
