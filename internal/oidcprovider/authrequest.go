package oidcprovider

// One authorization in progress, as zitadel's op.AuthRequest sees it.

import (
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

type authRequest struct {
	id            string
	clientID      string
	redirectURI   string
	state         string
	nonce         string
	scopes        []string
	responseType  oidc.ResponseType
	responseMode  oidc.ResponseMode
	codeChallenge *oidc.CodeChallenge

	// Set by the login step; user is never changed afterwards.
	user     *User
	authTime time.Time
}

// copy lets zitadel read a request while the login step completes another
// reference to it.
func (a *authRequest) copy() *authRequest {
	c := *a
	return &c
}

func (a *authRequest) GetID() string                         { return a.id }
func (a *authRequest) GetACR() string                        { return "" }
func (a *authRequest) GetAMR() []string                      { return []string{"pwd"} }
func (a *authRequest) GetAudience() []string                 { return []string{a.clientID} }
func (a *authRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *authRequest) GetClientID() string                   { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.codeChallenge }
func (a *authRequest) GetNonce() string                      { return a.nonce }
func (a *authRequest) GetRedirectURI() string                { return a.redirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.responseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.responseMode }
func (a *authRequest) GetScopes() []string                   { return a.scopes }
func (a *authRequest) GetState() string                      { return a.state }
func (a *authRequest) Done() bool                            { return a.user != nil }

func (a *authRequest) GetSubject() string {
	if a.user == nil {
		return ""
	}
	return a.user.Subject
}
