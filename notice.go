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
		u, err := a.store().User(ctx, userID)
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

// mailTenantAdmins mails an account-change notice (Mail.AccountChanged)
// saying change to every enabled Admin of the tenant, in the background.
// When about is set the change was made to that user's account: the notice
// names it, and about is spared (they get their own notice) — so a change
// one Admin makes to another Admin's account is seen by all of them and no
// Admin quietly takes another's over. Otherwise the change is to the
// tenant, and each Admin's notice names their own account. The tenant's
// users are read a page at a time; without a store.DirectoryLister, or when
// a read fails, the rest is not mailed and the failure is logged.
func (a *Auth) mailTenantAdmins(ctx context.Context, tenantID string, about *store.User, change string) {
	l, err := a.lister()
	if err != nil {
		a.log.WarnContext(ctx, "pbxauth: the tenant's Admins not mailed", "tenant", tenantID, "err", err)
		return
	}
	ctx = context.WithoutCancel(ctx)
	a.background.Go(func() {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		// Every Admin mailed, and about, are of the tenant: one read of its
		// domain serves every notice.
		domain := a.tenantDomain(ctx, store.User{TenantID: tenantID})
		for after := ""; ; {
			users, err := l.Users(ctx, tenantID, after, maxPage)
			if err != nil {
				a.log.WarnContext(ctx, "pbxauth: the tenant's Admins not mailed", "tenant", tenantID, "err", err)
				return
			}
			for _, admin := range users {
				if admin.Role != RoleAdmin || admin.Disabled || admin.Email == "" || (about != nil && admin.ID == about.ID) {
					continue
				}
				named := admin
				if about != nil {
					named = *about
				}
				msg, err := a.cfg.Mail.AccountChanged.render(admin.Email,
					MailData{Username: named.Username, Domain: domain, Change: change})
				if err == nil {
					err = a.mailer.Send(ctx, msg)
				}
				if err != nil {
					a.log.WarnContext(ctx, "pbxauth: notice to an Admin not mailed", "tenant", tenantID, "admin", admin.ID, "err", err)
				}
			}
			if len(users) < maxPage {
				return
			}
			after = users[len(users)-1].Username
		}
	})
}
