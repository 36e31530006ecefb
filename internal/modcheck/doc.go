// Package modcheck has no code, only tests of what a host pays for pbxauth:
// they build throwaway host modules outside the repository, the way a host
// would depend on pbxauth, and look at what those compile and what their
// go.sum names.
//
//   - A host that imports only the root package (with memstore) compiles no
//     database driver and no test tooling (browser, OpenID test providers,
//     OpenAPI validators, code generators, the repository's own test
//     helpers), and its go.sum, after go mod tidy, names neither pgx nor
//     modernc.org/sqlite.
//   - A host on PostgreSQL (sqlstore/postgres) does not compile SQLite, and
//     a host on SQLite (sqlstore/sqlite) does not compile pgx.
//   - The root package declares no name of package store's (records,
//     capabilities, their helpers) but the three sentinel errors it shares
//     with it: a host reads the root, a storage author reads store.
//
// A failure says what leaked and through which imports (go mod why). The
// tests that build modules run the go command and may fetch modules through
// the environment's proxy; they are skipped with -short.
package modcheck
