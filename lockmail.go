// This file tells a user that their second factor was locked by repeated
// wrong codes: whoever typed them knew the password.

package pbxauth

import (
	"context"
	"time"
)

// mailCodeLock mails the user about the lock of their second factor off
// the request path, so the answer to the wrong code does not wait for SMTP
// and looks the same whether or not a mail goes out. Close waits for it.
func (a *Auth) mailCodeLock(ctx context.Context, userID string, d time.Duration) {
	ctx = context.WithoutCancel(ctx)
	a.background.Go(func() {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		u, err := a.store.User(ctx, userID)
		if err != nil || u.Email == "" {
			return
		}
		msg, err := a.cfg.Mail.SecondFactorLocked.render(u.Email, MailData{
			Username: u.Username, Domain: a.tenantDomain(ctx, u), Minutes: minutesLeft(int64(d / time.Second)),
		})
		if err == nil {
			err = a.mailer.Send(ctx, msg)
		}
		if err != nil {
			a.log.WarnContext(ctx, "pbxauth: lock notice not mailed", "user", userID, "err", err)
		}
	})
}
