package main

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/pbxauth/pbxauth/internal/apitest"
)

// freshSchema creates a PostgreSQL schema dropped at the end of the test
// and returns a -db URL that uses it. Without PostgreSQL the test fails
// under CI and is skipped elsewhere.
func freshSchema(t *testing.T) string {
	base := "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	if v := os.Getenv("PBXAUTH_TEST_POSTGRES"); v != "" {
		base = v
	}
	db, err := sql.Open("pgx", base)
	if err == nil {
		err = db.Ping()
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL unreachable: %v", err)
		}
		t.Skipf("PostgreSQL unreachable: %v", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "pbxauth_example_" + hex.EncodeToString(b)
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Exec("DROP SCHEMA " + schema + " CASCADE")
		db.Close()
	})
	return base + "&search_path=" + schema
}

// TestExampleInstancesOnPostgres: two example processes on one PostgreSQL
// database behave as one: a cookie session made on A is valid on B.
func TestExampleInstancesOnPostgres(t *testing.T) {
	dsn := freshSchema(t)
	a := apitest.NewClient(t, startExample(t, nil, "-db", dsn, "-insecure-cookies"))
	b := apitest.NewClient(t, startExample(t, nil, "-db", dsn, "-insecure-cookies"))
	b.HTTP.Jar = a.HTTP.Jar // one browser; cookies do not depend on the port
	if r := a.Do("POST", "/login", map[string]string{"username": "bob", "password": "bob-pw-1234", "domain": "acme.example.test"}, "Origin", a.URL); r.Status != 200 {
		t.Fatalf("login on A: %d %s", r.Status, r.Body)
	}
	if r := b.Do("GET", "/login", nil); r.Status != 200 || r.String("role") != "StandardUser" {
		t.Fatalf("A's session on B: %d %s", r.Status, r.Body)
	}
}
