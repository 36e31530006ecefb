// This file holds what the mails say: default subjects and bodies for the
// second-factor code and the password-reset link, which a host overrides
// through Config.Mail, and the one function that renders them.

package pbxauth

import (
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
)

// MailData is what mail templates execute with.
type MailData struct {
	Username string
	Domain   string // the tenant's SIP domain; empty for system users
	Code     string // second factor: 6 digits
	Link     string // password reset: callback_url with token=FLOW added
	Minutes  int    // how long the code or link stays valid, rounded up
	// Change says what changed on the account (account-change notices).
	Change string
}

// MailTemplate is one kind of mail. A nil field keeps the default. The
// subject is folded to a single line after execution.
type MailTemplate struct {
	Subject *texttemplate.Template
	Text    *texttemplate.Template
	HTML    *htmltemplate.Template
}

// MailTemplates are the mails pbxauth sends.
type MailTemplates struct {
	// SecondFactor carries the code of POST /auth/send_otp. Templates
	// should print {{.Code}} as is: 6 consecutive digits, which mail
	// clients and phones recognise as a one-time code.
	SecondFactor MailTemplate
	// PasswordReset carries the link of POST /auth/forget_password.
	PasswordReset MailTemplate
	// AccountChanged tells the user of a change to how they sign in (an
	// authenticator app enabled or disabled, new recovery codes), so that a
	// change they did not make does not go unnoticed.
	AccountChanged MailTemplate
	// SecondFactorLocked tells the user that repeated wrong codes locked
	// their second factor (sent at the first lock since the last correct
	// code); {{.Minutes}} is how long the lock lasts.
	SecondFactorLocked MailTemplate
}

var defaultMail = MailTemplates{
	SecondFactor: MailTemplate{
		Subject: texttemplate.Must(texttemplate.New("subject").Parse(`Your verification code`)),
		Text: texttemplate.Must(texttemplate.New("text").Parse(`Your verification code is {{.Code}}

It is valid for {{.Minutes}} minutes and works once.

If you did not just sign in{{with .Username}} as {{.}}{{end}}, someone knows your password: reset it.
`)),
		HTML: htmltemplate.Must(htmltemplate.New("html").Parse(`<p>Your verification code is</p>
<p style="font-size:24px;font-weight:bold;letter-spacing:4px">{{.Code}}</p>
<p>It is valid for {{.Minutes}} minutes and works once.</p>
<p>If you did not just sign in{{with .Username}} as {{.}}{{end}}, someone knows your password: reset it.</p>
`)),
	},
	PasswordReset: MailTemplate{
		Subject: texttemplate.Must(texttemplate.New("subject").Parse(`Reset your password`)),
		Text: texttemplate.Must(texttemplate.New("text").Parse(`Someone asked to reset the password of {{.Username}}{{with .Domain}} ({{.}}){{end}}.

To choose a new password, open this link within {{.Minutes}} minutes:

{{.Link}}

The link works once. If you did not ask for it, ignore this mail: your password stays as it is.
`)),
		HTML: htmltemplate.Must(htmltemplate.New("html").Parse(`<p>Someone asked to reset the password of {{.Username}}{{with .Domain}} ({{.}}){{end}}.</p>
<p>To choose a new password, open this link within {{.Minutes}} minutes:</p>
<p><a href="{{.Link}}">Reset your password</a></p>
<p>The link works once. If you did not ask for it, ignore this mail: your password stays as it is.</p>
`)),
	},
	AccountChanged: MailTemplate{
		Subject: texttemplate.Must(texttemplate.New("subject").Parse(`Your sign-in settings changed`)),
		Text: texttemplate.Must(texttemplate.New("text").Parse(`{{.Change}} on the account {{.Username}}{{with .Domain}} ({{.}}){{end}}.

If this was not you, reset your password and tell your administrator.
`)),
		HTML: htmltemplate.Must(htmltemplate.New("html").Parse(`<p>{{.Change}} on the account {{.Username}}{{with .Domain}} ({{.}}){{end}}.</p>
<p>If this was not you, reset your password and tell your administrator.</p>
`)),
	},
	SecondFactorLocked: MailTemplate{
		Subject: texttemplate.Must(texttemplate.New("subject").Parse(`Sign-in codes locked after repeated wrong codes`)),
		Text: texttemplate.Must(texttemplate.New("text").Parse(`Someone entered wrong verification codes for {{.Username}}{{with .Domain}} ({{.}}){{end}} many times in a row, so signing in with a code is locked for {{.Minutes}} minutes.

Whoever did it knew your password. If it was not you, reset your password now.
`)),
		HTML: htmltemplate.Must(htmltemplate.New("html").Parse(`<p>Someone entered wrong verification codes for {{.Username}}{{with .Domain}} ({{.}}){{end}} many times in a row, so signing in with a code is locked for {{.Minutes}} minutes.</p>
<p>Whoever did it knew your password. If it was not you, reset your password now.</p>
`)),
	},
}

// orDefault fills the nil fields of t from def.
func (t MailTemplate) orDefault(def MailTemplate) MailTemplate {
	if t.Subject == nil {
		t.Subject = def.Subject
	}
	if t.Text == nil {
		t.Text = def.Text
	}
	if t.HTML == nil {
		t.HTML = def.HTML
	}
	return t
}

// render executes t for the recipient to.
func (t MailTemplate) render(to string, d MailData) (Message, error) {
	var subject, text, html strings.Builder
	if err := t.Subject.Execute(&subject, d); err != nil {
		return Message{}, err
	}
	if err := t.Text.Execute(&text, d); err != nil {
		return Message{}, err
	}
	if err := t.HTML.Execute(&html, d); err != nil {
		return Message{}, err
	}
	// A header is one line: fold whatever the template produced.
	return Message{To: to, Subject: strings.Join(strings.Fields(subject.String()), " "), Text: text.String(), HTML: html.String()}, nil
}

// minutesLeft is the whole minutes, rounded up, that a code or link made now
// stays valid.
func minutesLeft(secs int64) int { return int((secs + 59) / 60) }
