// This file is the login step of the -dev-idp stand-in: a page that says
// plainly it is not Microsoft and lets one of the demo accounts be chosen,
// no password asked.

package main

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"

	"github.com/pbxauth/pbxauth/internal/oidcprovider"
)

// chooserStyle is the page's only style, allowed by its hash.
const chooserStyle = `body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}` +
	`.warning{border:3px solid #b00;background:#fee;padding:.75rem 1rem}` +
	`ul{list-style:none;padding:0}li{margin:1rem 0}button{font-size:1rem;padding:.5rem 1rem}small{display:block;color:#555}`

var chooserPage = template.Must(template.New("chooser").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Development stand-in for Microsoft sign-in</title>
<style>` + chooserStyle + `</style>
</head>
<body>
<main>
<div class="warning" role="note">
<h1>Development stand-in: this is not Microsoft</h1>
<p>The pbxauth example server runs this identity provider because it was started with
<code>-dev-idp</code>. It stands in for Microsoft Entra ID so that "Sign in with Microsoft"
can be tried on this computer: it asks no password and signs in whichever account you choose.
Never use it with real users.</p>
</div>
<form method="post" action="login">
<input type="hidden" name="id" value="{{.ID}}">
<p>Choose the Microsoft account to sign in with:</p>
<ul>
{{range .Accounts}}<li><button type="submit" name="account" value="{{.Key}}">{{.Name}}</button> {{.Email}} ({{if .Verified}}verified{{else}}not verified{{end}})
<small>{{.Note}}</small></li>
{{end}}</ul>
</form>
</main>
</body>
</html>
`))

// chooserCSP allows the page nothing but its own style and posting its form.
var chooserCSP = func() string {
	sum := sha256.Sum256([]byte(chooserStyle))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; base-uri 'none'; frame-ancestors 'none'"
}()

// maxChoiceBody bounds the chooser's form (an ID and an account name).
const maxChoiceBody = 4 << 10

// chooser serves GET /login?id=…, the page.
func chooser() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("id")
		if id == "" {
			http.Error(w, "no sign-in in progress: start from the application", http.StatusBadRequest)
			return
		}
		pageHeaders(w.Header(), chooserCSP, "no-store")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = chooserPage.Execute(w, struct {
			ID       string
			Accounts []devAccount
		}{id, devAccounts})
	})
}

// choose serves POST /login: the chosen account signs in, and the browser
// goes on to the provider, which sends it back to pbxauth with a code.
func choose(p *oidcprovider.Provider) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxChoiceBody)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "malformed form", http.StatusBadRequest)
			return
		}
		var acct *devAccount
		for i := range devAccounts {
			if devAccounts[i].Key == r.PostForm.Get("account") {
				acct = &devAccounts[i]
			}
		}
		if acct == nil {
			http.Error(w, "unknown account", http.StatusBadRequest)
			return
		}
		next, err := p.SignIn(r.PostForm.Get("id"), acct.user())
		if errors.Is(err, oidcprovider.ErrUnknownRequest) {
			http.Error(w, "this sign-in is unknown or over: start again from the application", http.StatusBadRequest)
			return
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
	})
}
