// Package bench holds pbxauth's benchmarks; it has no API. They measure the
// bearer check on every shipped store beside the bare minimum (SHA-256 and
// one map lookup) and HS256 JWT verification, its growth with the number of
// live tokens, and the cost of a sign-in beside the one argon2id hash it
// must make. Run them with
//
//	go test -run '^$' -bench . -benchmem ./bench/...
//
// The load tool in bench/load measures throughput and burst safety over
// real connections. BENCHMARKS.md holds the figures.
package bench
