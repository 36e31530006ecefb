// This file mails users notices about their account (a second factor
// locked by wrong codes, an authenticator app added or removed, new
// recovery codes) off the request path: the answer does not wait for SMTP,
// and looks the same whether or not a mail goes out. Close waits for them.

package pbxauth

import (
	"context"
	"time"
)

// mailNotice renders t for the user with the data fill adds and sends it
// in the background; a user without an address gets nothing, and a failed
// send is logged (a notice is not retried: it tells of what already
// happened, and the user sees the change itself).
func (a *Auth) mailNotice(ctx context.Context, userID string, t MailTemplate, fill func(*MailData)) {
	ctx = context.WithoutCancel(ctx)
	a.background.Go(func() {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		u, err := a.store.User(ctx, userID)
		if err != nil || u.Email == "" {
			return
		}
		d := MailData{Username: u.Username, Domain: a.tenantDomain(ctx, u)}
		fill(&d)
		msg, err := t.render(u.Email, d)
		if err == nil {
			err = a.mailer.Send(ctx, msg)
		}
		if err != nil {
			a.log.WarnContext(ctx, "pbxauth: notice not mailed", "user", userID, "err", err)
		}
	})
}

// mailCodeLock tells the user that wrong codes locked their second factor
// for d: whoever typed them knew the password.
func (a *Auth) mailCodeLock(ctx context.Context, userID string, d time.Duration) {
	a.mailNotice(ctx, userID, a.cfg.Mail.SecondFactorLocked, func(m *MailData) { m.Minutes = minutesLeft(int64(d / time.Second)) })
}

// mailTenantAdmins mails every Admin of the tenant an account-change
// notice of a change to the tenant, in the background. It pages through
// the tenant's users, so it needs a Store that implements
// store.DirectoryLister; without one it logs that nobody was told.
func (a *Auth) mailTenantAdmins(ctx context.Context, tenantID, change string) {
	l, err := a.lister()
	if err != nil {
		a.log.WarnContext(ctx, "pbxauth: the tenant's Admins not mailed", "tenant", tenantID, "err", err)
		return
	}
	ctx = context.WithoutCancel(ctx)
	a.background.Go(func() {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		for after := ""; ; {
			users, err := l.Users(ctx, tenantID, after, maxPage)
			if err != nil {
				a.log.WarnContext(ctx, "pbxauth: the tenant's Admins not mailed", "tenant", tenantID, "err", err)
				return
			}
			for _, u := range users {
				if u.Role == RoleAdmin && !u.Disabled {
					a.mailNotice(ctx, u.ID, a.cfg.Mail.AccountChanged, func(m *MailData) { m.Change = change })
				}
			}
			if len(users) < maxPage {
				return
			}
			after = users[len(users)-1].Username
		}
	})
}
