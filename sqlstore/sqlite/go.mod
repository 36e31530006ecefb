module github.com/pbxauth/pbxauth/sqlstore/sqlite

go 1.26.0

require (
	github.com/pbxauth/pbxauth v0.0.0-00010101000000-000000000000
	github.com/pbxauth/pbxauth/sqlstore v0.0.0-00010101000000-000000000000
	modernc.org/sqlite v1.63.0
)

require (
	github.com/alexedwards/scs/v2 v2.9.0 // indirect
	github.com/dustin/go-humanize v1.1.0 // indirect
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/mattn/go-isatty v0.0.24 // indirect
	github.com/ncruces/go-strftime v1.1.0 // indirect
	github.com/remyoudompheng/bigfft v0.0.0-20230129092748-24d4a6f8daec // indirect
	golang.org/x/sys v0.50.0 // indirect
	modernc.org/libc v1.80.1 // indirect
	modernc.org/mathutil v1.7.1 // indirect
	modernc.org/memory v1.12.1 // indirect
)

replace github.com/pbxauth/pbxauth => ../../

replace github.com/pbxauth/pbxauth/sqlstore => ../

replace github.com/pbxauth/pbxauth/sqlstore/postgres => ../postgres
