// This file holds the runnable examples of the package documentation.

package sqlstore_test

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
	st, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(dir, "auth.db"))
	// or: sqlstore.Open(ctx, "postgres://pbx@db.example.com/pbx")
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

	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(filepath.Join(dir, "app.db")))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	st, err := sqlstore.New(context.Background(), db, sqlstore.SQLite)
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	var tables int
	err = db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name LIKE 'pbxauth\_%' ESCAPE '\'`).Scan(&tables)
	fmt.Println(tables, err)
	// Output: 15 <nil>
}
