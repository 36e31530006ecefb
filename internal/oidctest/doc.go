// Package oidctest runs a real OpenID provider on loopback for tests of the
// Microsoft (Entra ID) sign-in.
//
// The provider is internal/oidcprovider (zitadel's certified op.Provider; its
// package doc says what it checks and how client authentication is judged)
// on an httptest server. The test's part is the login step: it signs in the
// user last given to [Provider.SetUser] without any page and redirects back to
// zitadel's callback; with no user set it answers 400. Around the provider,
// [Provider.TokenRequests] records what each client sent to the token
// endpoint (neither zitadel nor the provider checks x5t against a
// certificate, refuses a reused jti or caps an assertion's lifetime: tests
// read those there), and [Options] edits the discovery document to test a
// client's choices.
//
// zitadel does not send RFC 9207's iss parameter: [Provider.SetIssParameter] makes
// the provider add it, right or forged, to every redirect back to a client, and
// Options.IssParameterSupported makes discovery promise it.
package oidctest
