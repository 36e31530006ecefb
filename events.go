// This file holds the security events reported through Config.OnEvent.

package pbxauth

import (
	"context"
	"time"
)

// EventKind names a security event.
type EventKind string

// Event kinds.
const (
	EventSignIn             EventKind = "sign_in"
	EventSignInFailed       EventKind = "sign_in_failed"
	EventLockout            EventKind = "lockout"
	EventTwoFactorSent      EventKind = "two_factor_sent"
	EventTwoFactorVerified  EventKind = "two_factor_verified"
	EventTwoFactorFailed    EventKind = "two_factor_failed"
	EventResetRequested     EventKind = "password_reset_requested" // reported from the background mail worker
	EventResetCompleted     EventKind = "password_reset_completed"
	EventRefresh            EventKind = "refresh"
	EventRefreshReuse       EventKind = "refresh_reuse_detected"
	EventSignOut            EventKind = "sign_out"
	EventMicrosoftSignIn    EventKind = "microsoft_sign_in"
	EventMicrosoftSignInBad EventKind = "microsoft_sign_in_failed"
	EventAppEnabled         EventKind = "authenticator_app_enabled"
	EventAppDisabled        EventKind = "authenticator_app_disabled"
	EventRecoveryCodeUsed   EventKind = "recovery_code_used"
	EventRecoveryCodesNew   EventKind = "recovery_codes_regenerated"
	// EventMailFailed: a reset mail was given up, refused for good or not
	// sent within Config.MailRetryWindow.
	EventMailFailed EventKind = "mail_failed"
	// EventMailMisconfigured: a mail failed for a configuration error
	// (SMTP authentication, STARTTLS required, TLS certificate); it is
	// retried, and reported at every attempt.
	EventMailMisconfigured EventKind = "mail_misconfigured"
)

// ReasonReplayed is the Reason of an EventTwoFactorFailed whose code was
// accepted already: the same app step, a used recovery code, or the same
// code submitted twice at once. It is answered as a wrong code but not
// counted as one, since whoever sent it knew a right code.
const ReasonReplayed = "replayed"

// ReasonCredentialsChanged is the Reason of an EventSignInFailed (and of a
// refused Microsoft sign-in) whose credential was proved before the user's
// sign-ins were ended — a password reset or set, a disable, a global
// sign-out — and which came to be stored after: answered 401 like a wrong
// password, but not counted as one.
const ReasonCredentialsChanged = "credentials_changed"

// ReasonEvicted is the Reason of an EventSessionRevoked that ended the
// user's least recently used sign-in to make room for a new one beyond
// Limits.SignInsPerUser.
const ReasonEvicted = "evicted"

// Event describes what happened, to whom and from where; it never holds a
// password, token or code.
type Event struct {
	Kind     EventKind
	Time     time.Time
	UserID   string // empty when the account is unknown
	TenantID string
	Username string // as submitted, for failures
	ClientIP string
	Method   string // "password", "microsoft", "cookie", ...
	QR       bool   // the credentials came from a provisioning QR code
	// Reason says, for a refusal, why, in words for a log (never a secret).
	Reason string
	// SessionID is the sign-in an event ended (session_revoked, sign_out
	// of a listed session), as GET /auth/sessions lists it.
	SessionID string
	// RequestID is the ID of the request the event happened in (its
	// answer's X-Request-ID); empty outside one.
	RequestID string
}

// emit reports e to Config.OnEvent.
func (a *Auth) emit(ctx context.Context, e Event) {
	a.tel.record(ctx, e)
	requestUser(ctx, e.UserID)
	if a.cfg.OnEvent == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = a.now()
	}
	if e.RequestID == "" {
		e.RequestID = requestIDOf(ctx)
	}
	a.cfg.OnEvent(ctx, e)
}
