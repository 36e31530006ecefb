// This file mails users notices about their account (a second factor
// locked by wrong codes, an authenticator app added or removed, new
// recovery codes; the tenant's Admins, of a change to one of them) off the
// request path: the answer does not wait for SMTP, and looks the same
// whether or not a mail goes out. Close waits for them.

package pbxauth

import (
	"context"
	"time"

	"github.com/pbxauth/pbxauth/store"
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

// mailTenantAdmins mails the notice t about the account of u to every Admin
// of u's tenant but u (who gets their own notice), in the background: a
// change one Admin made to another Admin's account is seen by all of them,
// so that no Admin quietly takes another's over. The tenant's users are read
// a page at a time; without a store.DirectoryLister, or when a read fails,
// the rest is not mailed and the failure is logged.
func (a *Auth) mailTenantAdmins(ctx context.Context, u store.User, t MailTemplate, change string) {
	ctx = context.WithoutCancel(ctx)
	a.background.Go(func() {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		l, err := a.lister()
		d := MailData{Username: u.Username, Domain: a.tenantDomain(ctx, u), Change: change}
		for after := ""; err == nil; {
			var page []store.User
			if page, err = l.Users(ctx, u.TenantID, after, defaultPage); err != nil || len(page) == 0 {
				break
			}
			for _, admin := range page {
				if admin.Role != RoleAdmin || admin.ID == u.ID || admin.Email == "" {
					continue
				}
				msg, err := t.render(admin.Email, d)
				if err == nil {
					err = a.mailer.Send(ctx, msg)
				}
				if err != nil {
					a.log.WarnContext(ctx, "pbxauth: notice to an admin not mailed", "user", u.ID, "admin", admin.ID, "err", err)
				}
			}
			after = page[len(page)-1].Username
		}
		if err != nil {
			a.log.WarnContext(ctx, "pbxauth: tenant's admins not mailed", "user", u.ID, "err", err)
		}
	})
}
