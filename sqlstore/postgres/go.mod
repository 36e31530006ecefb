module github.com/pbxauth/pbxauth/sqlstore/postgres

go 1.26.0

require (
	github.com/jackc/pgx/v5 v5.13.0
	github.com/pbxauth/pbxauth/sqlstore v0.0.0-00010101000000-000000000000
)

require (
	github.com/alexedwards/scs/postgresstore v0.0.0-20251002162104-209de6e426de // indirect
	github.com/alexedwards/scs/v2 v2.9.0 // indirect
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	github.com/pbxauth/pbxauth v0.0.0-00010101000000-000000000000 // indirect
	golang.org/x/sync v0.25.0 // indirect
	golang.org/x/text v0.44.0 // indirect
)

replace github.com/pbxauth/pbxauth => ../../

replace github.com/pbxauth/pbxauth/sqlstore => ../

replace github.com/pbxauth/pbxauth/sqlstore/sqlite => ../sqlite
