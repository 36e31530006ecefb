// This file holds the handlers of the email second factor: POST
// /auth/send_otp mails a code for a second-factor flow, POST
// /auth/verify_otp trades flow token and code for the sign-in's tokens.

package pbxauth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// verifyRequest is the body of POST /auth/verify_otp.
type verifyRequest struct {
	Token string `json:"token"`
	Code  string `json:"code"`
}

// sendAnswer is the 200 answer of POST /auth/send_otp, an extension (the
// spec describes no body): Factor says where the code that verify_otp
// expects comes from, so that a client words its prompt rightly —
// factorEmail when a code was just mailed, factorApp when the user's
// authenticator app (or a recovery code) gives it and nothing was sent.
type sendAnswer struct {
	Factor string `json:"factor"`
}

// The values of sendAnswer.Factor.
const (
	factorEmail = "email"
	factorApp   = "app"
)

// sendOTP serves POST /auth/send_otp. It mails on the request path, so the
// caller learns when no code went out (503 with Retry-After) and may simply
// retry: a failed send costs neither the send budget nor the 30 s wait, but
// a flow may fail at most 10 times (then 429).
func (a *Auth) sendOTP(w http.ResponseWriter, r *http.Request) *apiError {
	token, e := decodeFlowToken(w, r)
	if e != nil {
		return e
	}
	ctx, now := r.Context(), a.now()
	h := store.HashToken(token)
	f, err := a.store().Flow(ctx, h, now)
	if e := a.flowError(ctx, err, f.Purpose != store.FlowTwoFactor); e != nil {
		return e
	}
	u, e := a.flowUser(ctx, f)
	if e != nil {
		return e
	}
	if _, active, err := a.activeApp(ctx, u.ID); err != nil {
		return a.internal(ctx, "read authenticator app", err)
	} else if active {
		// The code comes from the app: nothing to send, but PortSIP
		// clients call send_otp first and must reach their code prompt.
		writeJSON(w, http.StatusOK, sendAnswer{Factor: factorApp})
		return nil
	}
	if u.Email == "" {
		// Nothing the client can fix by retrying; the account needs an address.
		return errNoEmail
	}
	if d, err := a.locked(ctx, a.cfg.Limits.codeLock(), codeKey(f), now); err != nil || d > 0 {
		return a.lockedAnswer(ctx, d, err)
	}
	// Every refusal that the flow and the counters tell is given before
	// anything is counted, so a refused send writes nothing; what counts
	// below refuses only a request that raced another.
	if e := a.sendRefused(f, now); e != nil {
		return e
	}
	if c, err := a.store().Counter(ctx, failedSendsKey(f.Hash), now); err != nil {
		return a.internal(ctx, "count failed sends", err)
	} else if c.Count >= maxFailed {
		return tooManyRequests(f.ExpiresAt.Sub(now))
	}
	mails, e := a.readRate(ctx, "code-mails:"+u.ID, a.cfg.Limits.CodeMails, a.cfg.Limits.CodeMailWindow, now)
	if e != nil {
		return e
	}
	code, hash, err := newCode(token)
	if err != nil {
		return a.internal(ctx, "make a code", err)
	}
	// The flow first: concurrent sends of one flow (a double click, a
	// client's retry) are decided by its compare-and-swap, and those that
	// lose it are refused having taken no place in the user's code mails,
	// which the user's other flows share. Only a send that reserved the
	// flow and then loses a later place gives back what it took.
	before, after, err := a.reserveSend(ctx, h, hash, now)
	if e := a.flowError(ctx, err, false); e != nil {
		return e
	}
	undo := func() { a.undoSend(context.WithoutCancel(ctx), h, before, hash, now) }
	unmail, e := mails.take(ctx, now)
	if e != nil {
		undo()
		return e
	}
	if ok, err := a.takeSendSlot(ctx, f, now); err != nil || !ok {
		undo()
		unmail()
		if err != nil {
			return a.internal(ctx, "count failed sends", err)
		}
		return tooManyRequests(f.ExpiresAt.Sub(now))
	}
	msg, err := a.cfg.Mail.SecondFactor.render(u.Email, MailData{
		Username: u.Username, Domain: a.tenantDomain(ctx, u),
		Code: code, Minutes: minutesLeft(secondsUntil(after.CodeExpiresAt, now)),
	})
	if err == nil {
		err = a.mailer.Send(ctx, msg)
	}
	if err != nil {
		// Undo even when the client has gone: the flow must stay usable.
		undo()
		unmail()
		a.log.ErrorContext(ctx, "pbxauth: second-factor code not sent", "user", u.ID, "err", err)
		a.tel.mail(ctx, mailKindCode, outcomeFailed)
		return errMailDown
	}
	a.freeSendSlot(ctx, f, now)
	a.emit(ctx, Event{Kind: EventTwoFactorSent, UserID: u.ID, TenantID: u.TenantID, Username: u.Username, ClientIP: a.clientIP(r), Method: "password"})
	writeJSON(w, http.StatusOK, sendAnswer{Factor: factorEmail})
	return nil
}

// verifyOTP serves POST /auth/verify_otp. Two limits are counted before
// the code is compared: the user's (or the known device's) attempt slot
// across flows (throttle.go), and the flow's own attempts; the flow's last
// allowed wrong code ends it. The flow that is consumed must still hold the
// code that matched, so a resend racing the verification cannot let an
// older code through. A right code accepted already is answered as a wrong
// one but not counted (replayedCode).
func (a *Auth) verifyOTP(w http.ResponseWriter, r *http.Request) *apiError {
	var req verifyRequest
	if e := decodeJSON(w, r, &req); e != nil {
		return e
	}
	if e := checkTokenField("token", req.Token); e != nil {
		return e
	}
	if e := checkAppCodeField(req.Code); e != nil {
		return e
	}
	ctx, now := r.Context(), a.now()
	h := store.HashToken(req.Token)
	f, t, e := a.chargeSecondFactor(ctx, h, now, nil)
	if e != nil {
		return e
	}
	ev := Event{UserID: f.UserID, TenantID: f.TenantID, ClientIP: a.clientIP(r), Method: "password"}
	m, e := a.secondFactorMatches(r, f, req.Token, req.Code, now)
	if e != nil {
		t.refund(context.WithoutCancel(ctx))
		return e
	}
	if m.replayed {
		return a.replayedCode(ctx, t, h, ev, now)
	}
	if !m.ok {
		return a.wrongSecondFactor(ctx, t, h, f, ev, now, "record wrong code")
	}
	got := m.flow
	if !m.consumed {
		var err error
		got, err = a.store().ConsumeFlow(ctx, h, store.FlowTwoFactor, now)
		if errors.Is(err, ErrNotFound) {
			// A concurrent request with the same code consumed it first.
			return a.replayedCode(ctx, t, h, ev, now)
		}
		if e := a.flowError(ctx, err, err == nil && got.CodeHash != f.CodeHash); e != nil {
			t.refund(context.WithoutCancel(ctx))
			return e
		}
	}
	if err := t.succeed(ctx, now); err != nil {
		return a.internal(ctx, "reset code lock", err)
	}
	u, e := a.flowUser(ctx, got)
	if e != nil {
		return e
	}
	mode, stamp, _ := parseTwoFactorData(got.Data)
	if stamp != passwordStamp(u.PasswordHash) {
		// The password changed since it was proved (a reset): the proof,
		// and so the flow, is void.
		return errInvalidToken
	}
	ev.Kind, ev.Username = EventTwoFactorVerified, u.Username
	a.emit(ctx, ev)
	// The sign-in carries the flow's epoch: a reset since the password was
	// proved ends it, however the code was got.
	s, mode := flowSignIn(u, got, mode)
	return a.completeSignIn(w, r, s, mode)
}

// flowSignIn is the sign-in a completed second-factor flow f of u issues,
// and the mode completeSignIn ends it in: a password sign-in, or for a
// flow begun by a passkey, a passkey sign-in.
func flowSignIn(u store.User, f store.Flow, mode string) (signIn, string) {
	switch mode {
	case flowPasskey:
		return signIn{user: u, epoch: f.Epoch, method: methodPasskey}, ""
	case flowPasskeyCookie:
		return signIn{user: u, epoch: f.Epoch, method: methodPasskey}, flowCookie
	}
	return signIn{user: u, epoch: f.Epoch, passwordVerified: true, method: "password", qr: mode == flowQR}, mode
}

// replayedCode answers a right code accepted already — the same app step,
// a used recovery code, the flow consumed by a concurrent request with the
// same code — as a wrong code, but counts it nowhere: the attempt slot and
// the flow's attempt go back. Whoever sent it knew a right code; counting
// it would only lock the user out by their own retries (DESIGN.md
// "Limits").
func (a *Auth) replayedCode(ctx context.Context, t *attempt, h store.Hash, ev Event, now time.Time) *apiError {
	ctx = context.WithoutCancel(ctx)
	t.refund(ctx)
	a.uncountAttempt(ctx, h, now)
	ev.Kind, ev.Reason = EventTwoFactorFailed, ReasonReplayed
	a.emit(ctx, ev)
	return errInvalidCode
}

// secondFactorMatch is how secondFactorMatches judged a code.
type secondFactorMatch struct {
	ok bool
	// replayed: a right app or recovery code accepted already, or one
	// whose flow was completed or ended by a concurrent request.
	replayed bool
	// consumed: a recovery code completed the flow, which was consumed
	// with it (flow).
	consumed bool
	flow     store.Flow
}

// secondFactorMatches checks the code of a second-factor flow: for a user
// with an active authenticator app, an app code or a recovery code (the
// emailed code is never a fallback); for others, the emailed code. A
// recovery code is spent together with the flow, in one Store step, so a
// request that loses the flow to another never spends its code.
func (a *Auth) secondFactorMatches(r *http.Request, f store.Flow, flowToken, code string, now time.Time) (m secondFactorMatch, e *apiError) {
	ctx := r.Context()
	t, active, err := a.activeApp(ctx, f.UserID)
	if err != nil {
		return m, a.internal(ctx, "read authenticator app", err)
	}
	if !active {
		m.ok = codeMatches(f, flowToken, code, now)
		return m, nil
	}
	got, err := a.verifyAppCode(ctx, t, code, now, func(hash string) error {
		var err error
		m.flow, err = a.appStore().RedeemRecoveryCode(ctx, f.UserID, hash, f.Hash, now)
		m.consumed = err == nil
		return err
	})
	if err != nil {
		return secondFactorMatch{}, a.appCodeError(ctx, f.UserID, err)
	}
	if got == codeRecovery {
		a.emit(ctx, Event{Kind: EventRecoveryCodeUsed, UserID: f.UserID, TenantID: f.TenantID, ClientIP: a.clientIP(r), Method: "password"})
	}
	m.ok, m.replayed = got == codeApp || got == codeRecovery, got == codeReplayed
	return m, nil
}

// codeKey is the key of a second-factor flow's code lock: the known device
// it was begun through, else its user.
func codeKey(f store.Flow) string {
	if _, _, dev := parseTwoFactorData(f.Data); dev != "" {
		return deviceKey(store.Device{ID: dev})
	}
	return userKey(f.UserID)
}

// twoFactorData is what a second-factor flow keeps in Flow.Data: how it
// must end (flowCookie for POST /login, "" for POST /auth/sign_in, flowQR
// for POST /auth/sign_in?qr=true, which ends as "" does), the stamp of the
// password hash it proved, so that a password reset while the flow waits
// for its code voids it, and the known device the password came through
// (its ID), if any, whose code lock the flow counts on.
func twoFactorData(mode, passwordHash string, dev *store.Device) string {
	s := mode + " " + passwordStamp(passwordHash)
	if dev != nil {
		s += " " + dev.ID
	}
	return s
}

// parseTwoFactorData splits what twoFactorData joined (a passkey
// challenge kept with the flow follows a "|": passkeyverify.go).
func parseTwoFactorData(data string) (mode, stamp, device string) {
	data, _, _ = strings.Cut(data, "|")
	mode, rest, _ := strings.Cut(data, " ")
	stamp, device, _ = strings.Cut(rest, " ")
	return mode, stamp, device
}

// flowError maps an error of reading or changing a flow to its answer:
// gone, expired or refused (wrong is true: of another purpose, or not the
// expected one) is the 401 of a bad token, a refusal that carries its own
// answer keeps it, and anything else is a backend failure. nil for success.
func (a *Auth) flowError(ctx context.Context, err error, wrong bool) *apiError {
	var ae *apiError
	switch {
	case err == nil && !wrong:
		return nil
	case err == nil || errors.Is(err, store.ErrNotFound):
		return errInvalidToken
	case errors.As(err, &ae):
		return ae
	default:
		return a.internal(ctx, "read flow", err)
	}
}

// flowUser reloads the user of a flow: one deleted or disabled since the
// flow began gets the answer of bad credentials.
func (a *Auth) flowUser(ctx context.Context, f store.Flow) (store.User, *apiError) {
	u, err := a.store().User(ctx, f.UserID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled) {
		return store.User{}, errUnauthorized
	}
	if err != nil {
		return store.User{}, a.internal(ctx, "read user", err)
	}
	return u, nil
}

// tenantDomain names the user's tenant in mails; "" for system users or
// when it cannot be read (a mail without it is still useful).
func (a *Auth) tenantDomain(ctx context.Context, u store.User) string {
	if u.TenantID == "" {
		return ""
	}
	t, err := a.store().Tenant(ctx, u.TenantID)
	if err != nil {
		return ""
	}
	return t.Domain
}

// chargeSecondFactor reads the second-factor flow h and, once check (when
// not nil) accepts it, counts the attempt before the factor is checked:
// the user's code lock, then the flow's attempts (the lock given back
// when the flow cannot be counted). It returns the flow as counted.
func (a *Auth) chargeSecondFactor(ctx context.Context, h store.Hash, now time.Time, check func(store.Flow) *apiError) (store.Flow, *attempt, *apiError) {
	f, err := a.store().Flow(ctx, h, now)
	if e := a.flowError(ctx, err, f.Purpose != store.FlowTwoFactor || f.Attempts >= a.cfg.Limits.FlowCodeAttempts); e != nil {
		return store.Flow{}, nil, e
	}
	if check != nil {
		if e := check(f); e != nil {
			return store.Flow{}, nil, e
		}
	}
	t, e := a.takeAttempt(ctx, a.cfg.Limits.codeLock(), codeKey(f), now)
	if e != nil {
		return store.Flow{}, nil, e
	}
	f, err = a.countAttempt(ctx, h, now)
	if e := a.flowError(ctx, err, false); e != nil {
		t.refund(ctx)
		return store.Flow{}, nil, e
	}
	return f, t, nil
}

// wrongSecondFactor answers a second factor that did not prove the flow h
// (a wrong code, or a passkey's assertion that failed its checks): the
// flow ends with its last attempt, the failure is charged to the code lock
// through t, the events are reported (a lockout too, and the lock mailed
// when it begins), and the answer is errInvalidCode. what names the
// charge in a log line when the Store fails.
func (a *Auth) wrongSecondFactor(ctx context.Context, t *attempt, h store.Hash, f store.Flow, ev Event, now time.Time, what string) *apiError {
	if f.Attempts >= a.cfg.Limits.FlowCodeAttempts {
		if _, err := a.store().ConsumeFlow(ctx, h, store.FlowTwoFactor, now); err != nil && !errors.Is(err, store.ErrNotFound) {
			return a.internal(ctx, "end second-factor flow", err)
		}
	}
	lock, d, err := t.fail(ctx, now)
	if err != nil {
		return a.internal(ctx, what, err)
	}
	ev.Kind = EventTwoFactorFailed
	a.emit(ctx, ev)
	if lock > 0 {
		ev.Kind = EventLockout
		a.emit(ctx, ev)
	}
	if lock == 1 {
		a.mailCodeLock(ctx, f.UserID, d)
	}
	return errInvalidCode
}
