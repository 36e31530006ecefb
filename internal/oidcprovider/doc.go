// Package oidcprovider is a real OpenID provider on loopback, for the tests of
// the Microsoft (Entra ID) sign-in (internal/oidctest) and for the example
// server's -dev-idp stand-in.
//
// The provider is zitadel's certified op.Provider (github.com/zitadel/oidc/v3/pkg/op)
// over a small in-memory storage, so discovery, JWKS, the authorization code flow
// with PKCE, the nonce, RS256 ID tokens, UserInfo and token endpoint client
// authentication are all checked by code this project did not write. Only the
// login step is the caller's: zitadel sends the browser to [LoginPath] under
// the issuer with the auth request's ID in the query parameter "id"; the
// caller serves that path, decides who signs in, and sends the browser on to
// the URL [Provider.SignIn] returns.
//
// Client authentication is zitadel's, with two choices written down here:
//
//   - private_key_jwt: zitadel verifies a client assertion with its own
//     op.VerifyJWTAssertion (signature with the key the storage returns for the
//     client, exp, iat, iss = sub), but by default it requires aud to contain the
//     issuer. Entra ID requires aud to be the token endpoint, as OpenID Connect
//     Core section 9 recommends, so the provider is wrapped to hand zitadel a
//     verifier built with op.NewJWTProfileVerifier whose expected audience is the
//     exact token endpoint URL. Nothing is skipped: an assertion whose aud is the
//     issuer is refused. The storage returns the client's registered public key
//     whatever key ID is asked for, since Entra's assertions carry x5t, not kid;
//     an assertion from a client with no key is invalid_client (401). zitadel
//     refuses any other bad assertion (audience, signature, expiry) with
//     invalid_grant (400), where Entra would say invalid_client. Neither zitadel
//     nor this package checks x5t against a certificate, refuses a reused jti or
//     caps the assertion's lifetime.
//   - client_secret_basic and client_secret_post: zitadel checks the secret and
//     refuses a secret from a private_key_jwt client with invalid_client, but it
//     does not tell basic from post. The token endpoint wrapper puts the method
//     the request used into its context, and the storage's
//     AuthorizeClientIDSecret refuses a method other than the client's, which
//     zitadel answers with invalid_client (401).
//   - a key added later ([Provider.AddClientKey], an admin uploading a
//     certificate to an Entra app registration, which keeps its secrets
//     beside its certificates): the client then also authenticates with
//     private_key_jwt under that key, while its secret keeps working. zitadel
//     knows one method per client, so a token request that sends no secret
//     sees the client as a private_key_jwt one.
//
// Discovery also lists PS256 and ES256 for token_endpoint_auth_signing_alg_values_supported,
// the algorithms zitadel's assertion verifier accepts (its own list says RS256 only).
//
// The package imports neither testing nor net/http/httptest (which registers
// a command-line flag), so a program may serve it.
package oidcprovider
