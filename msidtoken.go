// This file checks what go-oidc leaves to the client in a Microsoft ID
// token (OpenID Connect Core 1.0 §2 and §3.1.3.7). go-oidc verifies the
// signature, iss, exp and that aud contains the application; a token must
// also name its subject, and say which application it was issued to (azp)
// when it has other audiences too — another application's token is not a
// sign-in to this one.

package pbxauth

import "github.com/coreos/go-oidc/v3/oidc"

// checkIDToken applies those rules to a verified token and its claims.
func checkIDToken(idt *oidc.IDToken, c msClaims, applicationID string) *msFailure {
	switch {
	case idt.Subject == "":
		return denied("ID token has no sub")
	case len(idt.Audience) > 1 && c.AZP == "":
		return denied("ID token has %d audiences and no azp", len(idt.Audience))
	case c.AZP != "" && c.AZP != applicationID:
		return denied("ID token was issued to another application (azp)")
	}
	return nil
}
