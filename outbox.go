// This file holds the delivery of password-reset mails through the Outbox:
// POST /auth/forget_password records the request before it answers, and
// workers on every instance claim due records, write and send the mail, and
// retry with backoff over Config.MailRetryWindow. (The second-factor code is
// sent on the request path: its caller must learn that no code went out.)

package pbxauth

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/pbxauth/pbxauth/internal/outbox"
	"github.com/pbxauth/pbxauth/store"
)

// mailKindReset is the Kind of a password-reset record.
const mailKindReset = "password_reset"

// releaseTimeout bounds giving a claimed record back when the worker stops.
const releaseTimeout = 5 * time.Second

// resetMailData is what a reset record keeps: the request as submitted, so
// that the user and the callback are checked again at send time. No token.
type resetMailData struct {
	Domain      string `json:"domain"`
	Username    string `json:"username"`
	CallbackURL string `json:"callback_url"`
	ClientIP    string `json:"client_ip"`
}

// newMailPool makes the workers that deliver the outbox; New starts them
// when a Mailer is configured.
func (a *Auth) newMailPool() *outbox.Pool {
	return &outbox.Pool{
		Workers: a.cfg.MailWorkers,
		Poll:    min(a.cfg.MailRetryDelay, 5*time.Second),
		Work:    a.deliverOne,
	}
}

// queueReset records a forget_password request in the outbox and wakes a
// worker. Without a Mailer nothing is recorded: no instance could send it.
func (a *Auth) queueReset(ctx context.Context, d resetMailData) error {
	if a.cfg.Mailer == nil {
		return nil
	}
	data, err := json.Marshal(d)
	if err != nil {
		return err
	}
	now := a.now()
	if err := a.outbox.AddMail(ctx, store.OutboxMail{ID: newID(), Kind: mailKindReset, Data: string(data), CreatedAt: now, NextAt: now}); err != nil {
		return err
	}
	a.mailPool.Wake()
	return nil
}

// Close stops this instance's mail workers: an attempt in progress is
// cancelled and its record given back, due at once, so that another
// instance or the next start sends it; nothing accepted is lost. After
// Close, forget_password still records requests (for other instances and
// the next start); everything else keeps working. Call it when the host
// shuts down, after its http.Server. It is safe to call more than once and
// always returns nil.
func (a *Auth) Close() error {
	a.mailPool.Stop()
	a.background.Wait()
	return nil
}

// deliverOne claims one due record and makes one attempt at it; false when
// nothing was due.
func (a *Auth) deliverOne(ctx context.Context) bool {
	now := a.now()
	claim := outbox.NewClaim()
	m, err := a.outbox.ClaimMail(ctx, claim, now, now.Add(outbox.Lease))
	if errors.Is(err, store.ErrNotFound) {
		return false
	}
	if err != nil {
		if ctx.Err() == nil {
			a.log.WarnContext(ctx, "pbxauth: claim outbox mail", "err", err)
		}
		return false
	}
	a.attemptMail(ctx, m)
	return true
}

// attemptMail makes one attempt at a claimed record and then deletes it,
// reschedules it or gives it back.
func (a *Auth) attemptMail(ctx context.Context, m store.OutboxMail) {
	var d resetMailData
	if m.Kind != mailKindReset || json.Unmarshal([]byte(m.Data), &d) != nil {
		a.log.ErrorContext(ctx, "pbxauth: outbox record of unknown kind or form dropped", "kind", m.Kind)
		a.finishMail(ctx, m)
		return
	}
	// The previous attempt's link dies with this attempt: at most one
	// link of a record is alive, the newest one mailed.
	a.removeFlow(ctx, m.FlowHash)
	m.FlowHash = store.Hash{}
	msg, user, ok := a.writeResetMail(ctx, &m, d)
	if !ok {
		return
	}
	err := a.mailer.Send(ctx, msg)
	switch {
	case err == nil:
		a.tel.mail(ctx, mailKindReset, a.tel.delivered)
		a.finishMail(ctx, m)
	case ctx.Err() != nil:
		a.releaseMail(m)
	case errors.Is(err, ErrMailRejected):
		a.log.ErrorContext(ctx, "pbxauth: reset mail rejected, dropped", "user", user.ID, "err", err)
		a.dropMail(ctx, m, user)
	default:
		if errors.Is(err, ErrMailMisconfigured) {
			a.log.ErrorContext(ctx, "pbxauth: reset mail not sent: mail configuration error, will retry", "user", user.ID, "err", err)
			a.emit(ctx, Event{Kind: EventMailMisconfigured, UserID: user.ID, TenantID: user.TenantID})
		} else {
			a.log.WarnContext(ctx, "pbxauth: reset mail failed, will retry", "user", user.ID, "err", err)
		}
		a.retryMail(ctx, m, user)
	}
}

// writeResetMail re-checks the request, counts the mail against the user's
// limit on the first attempt, mints this attempt's flow token and records
// its hash with the record before anything is sent, so that the next
// attempt (also after a crash) removes it. ok is false when the record was
// dealt with here: nobody to write to, over the limit, or the claim lost.
func (a *Auth) writeResetMail(ctx context.Context, m *store.OutboxMail, d resetMailData) (Message, store.User, bool) {
	u, err := a.lookupUser(ctx, d.Domain, d.Username)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		a.log.WarnContext(ctx, "pbxauth: look up user for reset", "err", err)
		a.retryMail(ctx, *m, store.User{})
		return Message{}, u, false
	}
	first := m.Attempts == 0
	if first {
		a.emit(ctx, Event{Kind: EventResetRequested, UserID: u.ID, TenantID: u.TenantID, Username: d.Username, ClientIP: d.ClientIP, Method: "password"})
	}
	cb, e := a.checkCallbackURL(d.CallbackURL)
	if err != nil || u.Disabled || u.Email == "" || e != nil {
		a.finishMail(ctx, *m) // nobody to write to; the client was told the same 200
		return Message{}, u, false
	}
	now := a.now()
	if first {
		if ok, err := a.takeResetMail(ctx, u.ID, now); err != nil || !ok {
			if err != nil {
				a.log.WarnContext(ctx, "pbxauth: reset mail counter", "err", err)
				a.retryMail(ctx, *m, u)
				return Message{}, u, false
			}
			a.finishMail(ctx, *m)
			return Message{}, u, false
		}
	}
	f := store.Flow{Purpose: store.FlowPasswordReset, UserID: u.ID, TenantID: u.TenantID, Epoch: u.Epoch, Data: passwordStamp(u.PasswordHash), ExpiresAt: now.Add(a.cfg.FlowTTL)}
	tok, err := a.newFlow(ctx, f)
	if err != nil {
		a.log.WarnContext(ctx, "pbxauth: create reset flow", "err", err)
		a.retryMail(ctx, *m, u)
		return Message{}, u, false
	}
	m.FlowHash = store.HashToken(tok)
	m.Attempts++
	if err := a.outbox.UpdateMail(ctx, *m, m.Claim); err != nil {
		// The lease ran out and another worker has the record: this
		// attempt's link must not outlive it.
		a.removeFlow(ctx, m.FlowHash)
		if !errors.Is(err, store.ErrNotFound) {
			a.log.WarnContext(ctx, "pbxauth: record reset attempt", "err", err)
		}
		return Message{}, u, false
	}
	msg, err := a.cfg.Mail.PasswordReset.render(u.Email, MailData{
		Username: u.Username, Domain: a.tenantDomain(ctx, u),
		Link: withToken(cb, "token", tok), Minutes: minutesLeft(secondsUntil(f.ExpiresAt, now)),
	})
	if err != nil {
		a.log.ErrorContext(ctx, "pbxauth: render reset mail, dropped", "err", err)
		a.dropMail(ctx, *m, u)
		return Message{}, u, false
	}
	return msg, u, true
}

// removeFlow removes a reset flow an earlier attempt minted, if any.
func (a *Auth) removeFlow(ctx context.Context, h store.Hash) {
	if h == (store.Hash{}) {
		return
	}
	if _, err := a.store().ConsumeFlow(ctx, h, store.FlowPasswordReset, a.now()); err != nil && !errors.Is(err, store.ErrNotFound) {
		a.log.WarnContext(ctx, "pbxauth: remove the previous attempt's reset flow", "err", err)
	}
}

// finishMail deletes a record that needs nothing more.
func (a *Auth) finishMail(ctx context.Context, m store.OutboxMail) {
	if err := a.outbox.DeleteMail(ctx, m.ID, m.Claim); err != nil && !errors.Is(err, store.ErrNotFound) {
		a.log.WarnContext(ctx, "pbxauth: delete outbox mail", "err", err)
	}
}

// dropMail gives a record up: its link is removed, the record deleted, and
// the failure reported.
func (a *Auth) dropMail(ctx context.Context, m store.OutboxMail, u store.User) {
	a.removeFlow(ctx, m.FlowHash)
	a.finishMail(ctx, m)
	a.emit(ctx, Event{Kind: EventMailFailed, UserID: u.ID, TenantID: u.TenantID})
}

// retryMail schedules the next attempt by the backoff, or gives the record
// up when its window is over.
func (a *Auth) retryMail(ctx context.Context, m store.OutboxMail, u store.User) {
	b := outbox.Backoff{First: a.cfg.MailRetryDelay, Window: a.cfg.MailRetryWindow}
	next, ok := b.Next(m.CreatedAt, a.now(), max(m.Attempts, 1))
	if !ok {
		a.log.ErrorContext(ctx, "pbxauth: reset mail not sent within Config.MailRetryWindow, dropped", "user", u.ID, "attempts", m.Attempts)
		a.dropMail(ctx, m, u)
		return
	}
	claim := m.Claim
	m.NextAt, m.Claim, m.LeaseUntil = next, "", time.Time{}
	if err := a.outbox.UpdateMail(ctx, m, claim); err != nil && !errors.Is(err, store.ErrNotFound) {
		// The lease returns it in 2 minutes anyway.
		a.log.WarnContext(ctx, "pbxauth: reschedule outbox mail", "err", err)
	}
}

// releaseMail gives a record back, due at once, when its attempt was cut
// short by Close.
func (a *Auth) releaseMail(m store.OutboxMail) {
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	claim := m.Claim
	m.NextAt, m.Claim, m.LeaseUntil = a.now(), "", time.Time{}
	if err := a.outbox.UpdateMail(ctx, m, claim); err != nil && !errors.Is(err, store.ErrNotFound) {
		a.log.WarnContext(ctx, "pbxauth: give back outbox mail", "err", err)
	}
}
