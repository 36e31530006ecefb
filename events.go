// This file holds the security events reported through Config.OnEvent.

package pbxauth

import (
	"context"
	"time"
)

// EventKind names a security event. Each kind's comment says when it
// fires and which fields of [Event] it fills; every event has Kind and
// Time, and RequestID when it happened in a request (see [RequestInfo]).
// ClientIP is the client as Config.TrustedProxies decide it; Method is how
// the sign-in concerned was made or is being made ("password", "microsoft",
// "cookie" for POST /logout).
type EventKind string

// Event kinds of the API's flows.
const (
	// EventSignIn: a password or passkey sign-in was issued — a token
	// family, or a cookie session — by POST /auth/sign_in or POST /login of
	// a user who needs no second factor, by POST /auth/sign_in/passkey or
	// POST /login/passkey (Method "passkey"), or by the POST
	// /auth/verify_otp or /auth/verify_passkey that completes a
	// second-factor flow. A right password that still needs a
	// code is EventSecondFactorRequired instead, so each sign-in is
	// reported once, when it exists. UserID, TenantID, Username, ClientIP,
	// Method "password", QR for POST /auth/sign_in?qr=true (also when its
	// verify_otp issues it).
	EventSignIn EventKind = "sign_in"
	// EventSignInFailed: POST /auth/sign_in/passkey or POST /login/passkey
	// refused an assertion (Method "passkey", Reason saying why — such as
	// unknown_credential, assertion, disabled, other_tenant — and, once the
	// passkey is known, UserID, TenantID, Username, PasskeyID); or
	// POST /auth/sign_in or POST /login refused the
	// credentials (401: wrong password, unknown domain or user, no
	// password, disabled user) or refused the attempt by a limit (429,
	// before any password is checked). Username as submitted, ClientIP,
	// Method "password", QR; UserID and TenantID when the password of an
	// existing account was checked. Also a sign-in whose credential was
	// proved but which could not be stored because the user's sign-ins
	// were ended meanwhile: Reason ReasonCredentialsChanged, UserID,
	// TenantID, Username, ClientIP, and Method "password" (POST
	// /auth/sign_in, POST /login, verify_otp) or "microsoft" (POST
	// /auth/sign_in/microsoft/token).
	EventSignInFailed EventKind = "sign_in_failed"
	// EventSecondFactorRequired: POST /auth/sign_in or POST /login
	// accepted the password of a user who needs a second factor and
	// answered a second-factor flow token; nothing is issued yet. Fields
	// as EventSignIn.
	EventSecondFactorRequired EventKind = "second_factor_required"
	// EventLockout: a failure began a lock; it follows, in the same
	// request and with the same fields, the EventSignInFailed of the
	// password that locked the submitted account (or the known device it
	// came through) — Limits.PasswordAttempts consecutive failures — or the
	// EventTwoFactorFailed of the code at POST /auth/verify_otp that locked
	// the user's second factor (Limits.CodeAttempts).
	EventLockout EventKind = "lockout"
	// EventTwoFactorSent: POST /auth/send_otp mailed a code. UserID,
	// TenantID, Username, ClientIP, Method "password".
	EventTwoFactorSent EventKind = "two_factor_sent"
	// EventTwoFactorVerified: POST /auth/verify_otp accepted the code
	// (emailed, app or recovery) of a flow whose password still holds;
	// EventSignIn follows once the sign-in is issued. UserID, TenantID,
	// Username, ClientIP, Method "password".
	EventTwoFactorVerified EventKind = "two_factor_verified"
	// EventTwoFactorFailed: POST /auth/verify_otp refused a wrong code, or
	// a right one accepted already (Reason ReasonReplayed, not counted).
	// UserID, TenantID, ClientIP, Method "password".
	EventTwoFactorFailed EventKind = "two_factor_failed"
	// EventResetRequested: the background mail worker took up a POST
	// /auth/forget_password request, on its first attempt, whether or not
	// the account exists or gets a mail. Username as submitted, ClientIP
	// of that request, Method "password"; UserID and TenantID when the
	// account exists. No RequestID: the worker is not in a request.
	EventResetRequested EventKind = "password_reset_requested"
	// EventResetCompleted: POST /auth/reset_password set the new password.
	// UserID, TenantID, Username, ClientIP, Method "password".
	EventResetCompleted EventKind = "password_reset_completed"
	// EventRefresh: POST /auth/refresh_token answered a token pair (a
	// rotation, or within Config.RefreshReuseGrace the same successor).
	// UserID, TenantID, ClientIP, Method of the sign-in.
	EventRefresh EventKind = "refresh"
	// EventRefreshReuse: POST /auth/refresh_token got a refresh token used
	// already, past the grace, and ended its sign-in. UserID, TenantID,
	// ClientIP, Method of the sign-in.
	EventRefreshReuse EventKind = "refresh_reuse_detected"
	// EventSignOut: a request ended its own sign-in: POST /auth/sign_out
	// (UserID, TenantID, ClientIP, Method of the sign-in), POST /logout
	// with a session (the same, Method "cookie"), or DELETE
	// /auth/sessions/{id} or a POST /auth/sign_out scope that named the
	// caller's own sign-in (UserID, TenantID, ClientIP, SessionID).
	EventSignOut EventKind = "sign_out"
	// EventMicrosoftSignIn: a Microsoft sign-in was issued: the callback's
	// cookie session (POST /login/by_microsoft), or the token pair of POST
	// /auth/sign_in/microsoft/token. UserID, TenantID, Username, ClientIP,
	// Method "microsoft".
	EventMicrosoftSignIn EventKind = "microsoft_sign_in"
	// EventMicrosoftSignInBad: the Microsoft callback refused a sign-in
	// whose state was live (Username is the Microsoft account's email or
	// name, UserID when a user was matched), or POST
	// /auth/sign_in/microsoft/token refused its code_verifier (UserID).
	// TenantID, ClientIP, Method "microsoft", Reason.
	EventMicrosoftSignInBad EventKind = "microsoft_sign_in_failed"
	// EventAppEnabled: POST /auth/totp/confirm activated an authenticator
	// app. UserID, TenantID, Username, ClientIP, Method of the caller's
	// sign-in.
	EventAppEnabled EventKind = "authenticator_app_enabled"
	// EventAppDisabled: POST /auth/totp/disable removed the app (fields as
	// EventAppEnabled), or the host called [Auth.ResetTOTP] (UserID,
	// TenantID, Username).
	EventAppDisabled EventKind = "authenticator_app_disabled"
	// EventRecoveryCodeUsed: a recovery code was accepted, at POST
	// /auth/verify_otp (UserID, TenantID, ClientIP, Method "password") or on
	// a bearer route that asks for a code (UserID, TenantID, Username,
	// ClientIP).
	EventRecoveryCodeUsed EventKind = "recovery_code_used"
	// EventRecoveryCodesNew: POST /auth/recovery_codes made new recovery
	// codes. Fields as EventAppEnabled.
	EventRecoveryCodesNew EventKind = "recovery_codes_regenerated"
	// EventPasskeyAdded: POST /auth/passkeys registered a passkey.
	// UserID, TenantID, Username, ClientIP, Method of the caller's
	// sign-in, PasskeyID.
	EventPasskeyAdded EventKind = "passkey_added"
	// EventPasskeyRemoved: DELETE /auth/passkeys/{id} removed a passkey
	// (fields as EventPasskeyAdded), or the host called
	// [Auth.ResetPasskeys] (UserID, TenantID, Username; no PasskeyID), or
	// a password reset removed one added in the 7 days before it (UserID,
	// TenantID, Username, ClientIP, PasskeyID, Reason "password_reset").
	EventPasskeyRemoved EventKind = "passkey_removed"
	// EventPasskeyUsed: an assertion of a passkey was accepted, at POST
	// /auth/sign_in/passkey, POST /login/passkey or POST
	// /auth/verify_passkey. UserID, TenantID, Username, ClientIP, Method
	// "passkey", PasskeyID. EventSignIn follows once a sign-in is issued.
	EventPasskeyUsed EventKind = "passkey_used"
	// EventPasskeySuspicious: a passkey proved itself with its signature
	// but looks copied or changed. Reason ReasonCounter: its sign count did
	// not advance — a device-bound passkey is refused (401) and disabled,
	// a synced one accepted; Reason ReasonBackupEligibility: its BE flag
	// differs from its registration, or BS=1 with BE=0 — refused. The user
	// is mailed for each refusal. UserID, TenantID, Username, ClientIP,
	// Method "passkey", PasskeyID.
	EventPasskeySuspicious EventKind = "passkey_suspicious"
	// EventMailFailed: a reset mail was given up, refused for good or not
	// sent within Config.MailRetryWindow. UserID, TenantID; no RequestID
	// (the background mail worker).
	EventMailFailed EventKind = "mail_failed"
	// EventMailMisconfigured: a mail failed for a configuration error
	// (SMTP authentication, STARTTLS required, TLS certificate); it is
	// retried, and reported at every attempt. UserID, TenantID; no
	// RequestID.
	EventMailMisconfigured EventKind = "mail_misconfigured"
)

// Events of administrators' Microsoft changes ("More of PortSIP v22").
const (
	// EventMicrosoftBindingAdded: an administrator bound the user to a
	// Microsoft account (POST /users/{id}/ms365_binding,
	// [Auth.BindMicrosoftAccount]); the user's earlier binding and links
	// went, and their sign-ins made through Microsoft ended (each an
	// EventSessionRevoked before it). UserID, TenantID, Username, Actor,
	// ClientIP (over HTTP), Change naming the account.
	EventMicrosoftBindingAdded EventKind = "microsoft_binding_added"
	// EventMicrosoftBindingRemoved: an administrator removed the user's
	// binding (POST /users/{id}/ms365_binding/destroy,
	// [Auth.UnbindMicrosoftAccount]) — with it the user's links, and their
	// sign-ins made through Microsoft ended. Fields as
	// EventMicrosoftBindingAdded, Change naming the account. Removing from
	// a user without a binding still ends their links, but reports
	// nothing.
	EventMicrosoftBindingRemoved EventKind = "microsoft_binding_removed"
	// EventMicrosoftSettingsChanged: a tenant's Microsoft settings changed
	// (POST /ms365, [Auth.SetMicrosoftSettings]). TenantID, Actor, ClientIP
	// (over HTTP), and Change with the old and new values and, when the
	// directory, application or national cloud changed, how many links and
	// bindings ended (each user's sign-ins made through Microsoft ended too,
	// each an EventSessionRevoked before it).
	EventMicrosoftSettingsChanged EventKind = "microsoft_settings_changed"
)

// ReasonMicrosoftRule is the Reason of an EventMicrosoftSignInBad refused
// by the tenant's Microsoft sign-in rules (sign_in_as_administrator for a
// user with the role Admin, sign_in_as_standard_user for any other role):
// the rule is disabled, or its selection leaves the account out.
const ReasonMicrosoftRule = "microsoft_rule"

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

// ReasonCounter and ReasonBackupEligibility are the Reasons of an
// EventPasskeySuspicious (and the DisabledReason of a passkey disabled
// for its counter).
const (
	ReasonCounter           = "counter"
	ReasonBackupEligibility = "backup_eligibility"
)

// ReasonPasswordReset is the Reason of an EventPasskeyRemoved made by a
// password reset.
const ReasonPasswordReset = "password_reset"

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
	// PasskeyID is the passkey concerned (passkey events), as GET
	// /auth/passkeys lists it.
	PasskeyID string
	// RequestID is the ID of the request the event happened in (its
	// answer's X-Request-ID); empty outside one.
	RequestID string
	// Actor is the ID of the principal who made an administrator's change
	// to UserID or TenantID (a binding, a tenant's settings); empty when
	// the host made it through the Go API.
	Actor string
	// Change says, in words for a log, what a settings change changed:
	// old and new values, and what it ended.
	Change string
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
