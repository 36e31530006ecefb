// Package client is the Go client of the pbxauth API — and of a PortSIP PBX
// v22, whose wire is the same — for programs that call the PBX:
// integrations, bots, command-line tools, other services.
//
// A [Client] signs in step by step ([Client.SignIn], then a [SecondFactor]
// when the account asks for one), and its [Client.HTTPClient] (or
// [Client.Transport]) puts the bearer token on every request to the PBX's
// own routes and keeps it fresh:
//
//   - The access token is refreshed [Config.RefreshBefore] (default 60 s,
//     jittered) before its end, or after a 401 with error="invalid_token",
//     once per refresh-token generation however many goroutines ask at
//     once: they wait on that one refresh, each honouring its own context,
//     while the refresh itself runs to its end (at most 30 s) even if every
//     caller gave up, because a rotation the server stored must not be lost.
//   - The new pair is saved to [Config.Tokens] before it is used. A
//     [TokenStore] that also locks (as [FileTokens] does, across
//     processes) lets several processes share one sign-in: under the lock
//     the client reads the stored pair again and adopts a newer one
//     instead of refreshing.
//   - A refresh whose answer is lost (a network error, 5xx, 429) is
//     retried with jittered backoff for at most 10 s, honouring
//     Retry-After. A pbxauth server with Config.RefreshReuseGrace answers
//     the retry with the same pair and the sign-in survives; with no grace
//     (pbxauth's default) the retry is a reuse, the server ends the
//     sign-in, and the client reports [ErrSignedOut].
//   - Only a refresh answered 401, or 400 about the token, ends the
//     session: [ErrSignedOut], [Config.OnSignedOut] called once, the stored
//     pair cleared.
//
// The package depends on nothing beyond the standard library and
// golang.org/x/oauth2 ([Client.TokenSource]).
package client
