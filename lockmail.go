// This file tells a user that their second factor was locked by repeated
// wrong codes: whoever typed them knew the password.

package pbxauth

import (
	"context"
	"time"
)

// mailCodeLock mails the user about the lock of their second factor, from
// the background mail worker, so the answer to the wrong code does not
// wait for SMTP and looks the same whether or not a mail goes out.
func (a *Auth) mailCodeLock(ctx context.Context, userID string, d time.Duration) {
	job := func(ctx context.Context) {
		u, err := a.store.User(ctx, userID)
		if err != nil || u.Email == "" {
			return
		}
		msg, err := a.cfg.Mail.SecondFactorLocked.render(u.Email, MailData{
			Username: u.Username, Domain: a.tenantDomain(ctx, u), Minutes: minutesLeft(int64(d / time.Second)),
		})
		if err != nil {
			a.log.ErrorContext(ctx, "pbxauth: render lock mail", "err", err)
			return
		}
		a.deliver(ctx, msg, a.now().Add(d))
	}
	if !a.mailq.push(job) {
		a.log.WarnContext(ctx, "pbxauth: mail queue full or closed; lock mail dropped", "user", userID)
	}
}
