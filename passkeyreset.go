// This file holds what a password reset does to passkeys — the way out
// after a compromise: the passkeys added in the 7 days before it (an
// attacker's would be among them) are deleted in the Store's reset step,
// and the user is mailed their names and the rest, to remove any they do
// not recognise (DESIGN.md "Tokens", the table of changes).

package pbxauth

import (
	"context"
	"strings"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// resetPasskeysWindow is how far back a password reset deletes passkeys.
const resetPasskeysWindow = 7 * 24 * time.Hour

// storeResetPassword gives u the password hash in the Store's reset step:
// every sign-in ends, the epoch advances, and with a Store that keeps
// passkeys those added in the last 7 days go in the same step. Each
// deleted passkey is reported (ip: the request's client, if any). notice
// is the account-change mail the caller's change is mailed with ("" for
// none): after the step the user gets one mail, notice followed by what
// the reset did to their passkeys, or, without notice, that alone when
// passkeys were deleted or remain.
func (a *Auth) storeResetPassword(ctx context.Context, u store.User, hash string, forceReset bool, ip, notice string) error {
	ps, ok := a.cfg.Store.(store.PasskeyStore) // not a.store(): its timing wrapper has no optional capability
	if !ok {
		if err := a.store().ResetPassword(ctx, u.ID, hash, forceReset); err != nil {
			return err
		}
		if notice != "" {
			a.mailNotice(ctx, u.ID, a.cfg.Mail.AccountChanged, func(m *MailData) { m.Change = notice })
		}
		return nil
	}
	deleted, err := ps.ResetPasswordPasskeys(ctx, u.ID, hash, forceReset, a.now().Add(-resetPasskeysWindow))
	if err != nil {
		return err
	}
	for _, p := range deleted {
		a.emit(ctx, Event{Kind: EventPasskeyRemoved, UserID: u.ID, TenantID: u.TenantID, Username: u.Username, ClientIP: ip,
			PasskeyID: p.ID, Reason: ReasonPasswordReset})
	}
	kept, err := ps.Passkeys(ctx, u.ID)
	if err != nil {
		a.log.WarnContext(ctx, "pbxauth: read passkeys after reset", "user", u.ID, "err", err)
	}
	if notice == "" && len(deleted) == 0 && len(kept) == 0 {
		return nil
	}
	a.mailNotice(ctx, u.ID, a.cfg.Mail.AccountChanged, func(m *MailData) { m.Change = resetPasskeysChange(notice, deleted, kept) })
	return nil
}

// resetPasskeysChange says in a mail what a reset did to passkeys, after
// notice ("Your password was reset" when "").
func resetPasskeysChange(notice string, deleted, kept []store.Passkey) string {
	names := func(ps []store.Passkey) string {
		q := make([]string, len(ps))
		for i, p := range ps {
			q[i] = quoteName(p.Name) + " (added " + p.CreatedAt.UTC().Format("2006-01-02") + ")"
		}
		return strings.Join(q, ", ")
	}
	s := notice
	if s == "" {
		s = "Your password was reset"
	}
	if len(deleted) > 0 {
		s += ". The passkeys added in the 7 days before were removed: " + names(deleted)
	}
	if len(kept) > 0 {
		s += ". Your other passkeys are " + names(kept) + ": remove any you do not recognise"
	}
	return s
}
