// This file holds the runnable examples of the package documentation.

package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/pbxauth/pbxauth/sqlstore"
	"github.com/pbxauth/pbxauth/sqlstore/sqlite"
	"github.com/pbxauth/pbxauth/store"
)

// Open a SQLite store, sweep it in the background, and use it.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "pbxauth")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "auth.db"))
	// or, with github.com/pbxauth/pbxauth/sqlstore/postgres:
	// postgres.Open(ctx, "postgres://pbx@db.example.com/pbx")
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	st.ErrorLog = func(err error) { log.Print(err) }
	go st.RunJanitor(ctx, 5*time.Minute, time.Now)

	if err := st.CreateTenant(ctx, store.Tenant{ID: "t1", Name: "Acme", Domain: "acme.example.com"}); err != nil {
		log.Fatal(err)
	}
	t, err := st.TenantByDomain(ctx, "ACME.example.com")
	fmt.Println(t.Name, err)
	_, err = st.Tenant(ctx, "t2")
	fmt.Println(errors.Is(err, store.ErrNotFound))
	// Output:
	// Acme <nil>
	// true
}

// A host that keeps its own *sql.DB hands it to New; Close then leaves it
// open.
func ExampleNew() {
	dir, err := os.MkdirTemp("", "pbxauth")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	db, err := sql.Open("sqlite", sqlite.DSN(filepath.Join(dir, "app.db")))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	st, err := sqlite.New(context.Background(), db, sqlstore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	var tables int
	err = db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name LIKE 'pbxauth\_%' ESCAPE '\'`).Scan(&tables)
	fmt.Println(tables, err)
	// Output: 18 <nil>
}
