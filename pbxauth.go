// Package pbxauth serves the Authentication section of the PortSIP PBX REST
// API v22 — password sign-in, email second factor, password reset, access and
// refresh tokens, cookie sessions, Microsoft Entra ID sign-in — as plain
// net/http handlers behind a pluggable [Store].
//
// A host mounts [Auth.Handler] under its API prefix and protects its own
// routes with [Auth.RequireBearer]:
//
//	a, err := pbxauth.New(pbxauth.Config{Store: st, PublicURL: "https://pbx.example.com:8887/api"})
//	mux.Handle("/api/", http.StripPrefix("/api", a.Handler()))
//	mux.Handle("GET /api/extensions", a.RequireBearer(myHandler)) // pbxauth.PrincipalFrom(r.Context())
//
// Tokens are opaque random strings kept by the Store only as SHA-256 hashes,
// so a sign-out or a password reset takes effect at once on every instance
// sharing the Store.
package pbxauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"runtime"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/pbxauth/pbxauth/internal/callbackurl"
	"github.com/pbxauth/pbxauth/internal/hasher"
	"github.com/pbxauth/pbxauth/internal/memoutbox"
	"github.com/pbxauth/pbxauth/internal/memrate"
	"github.com/pbxauth/pbxauth/internal/outbox"
	"github.com/pbxauth/pbxauth/internal/sealedstate"
	"github.com/pbxauth/pbxauth/store"
)

// Config configures an [Auth]. Every field but Store is optional; the zero
// value of a field means the default written beside it.
type Config struct {
	// Store keeps users, tenants, tokens, flows and counters. Required.
	Store store.Store

	// PublicURL is the external base URL of the mounted API, for example
	// "https://pbx.example.com:8887/api". Redirect URIs are built from it.
	PublicURL string

	// CallbackOrigins lists the origins ("https://app.example.com",
	// "http://127.0.0.1:9999") that may receive flow tokens through a
	// callback_url. Scheme and host compare case-insensitively, the port
	// exactly (default ports made explicit); anything else is refused. An
	// entry with a path ("https://app.example.com/signed-in") allows only
	// that exact escaped path on its origin. Whatever the list, a
	// callback_url with dot segments (also %2e), %2f, %5c, "\", empty
	// segments or a fragment is refused. An invalid entry makes New fail.
	CallbackOrigins []string

	// Realm is the realm of WWW-Authenticate challenges. Default "pbxauth".
	Realm string

	// AccessTokenTTL is the life of an access token. Default 1 hour.
	AccessTokenTTL time.Duration
	// SignInTTL is the absolute life of a sign-in: no refresh extends it.
	// Default 30 days.
	SignInTTL time.Duration
	// FlowTTL is the life of a flow token (second factor, password reset,
	// Microsoft exchange) and of an emailed code. Default 10 minutes.
	FlowTTL time.Duration
	// RefreshReuseGrace, when positive, is a window after a rotation in
	// which the same refresh token presented again — a retry whose answer
	// was lost, or a racing request — gets the same successor pair, as
	// long as that successor is unused. Past it, or once the successor was
	// used, a second use revokes the family. Default 0: strict, every
	// second use revokes.
	RefreshReuseGrace time.Duration

	// Argon2 sets the password hashing cost. Zero means DefaultArgon2.
	// Stored hashes made with weaker parameters are upgraded on sign-in.
	Argon2 Argon2Params
	// MaxConcurrentHashes bounds concurrent argon2id computations, and so
	// the memory they hold: Argon2.Memory each, freshly allocated by every
	// hash. A finished hash's memory stays in the heap until the garbage
	// collector next runs, so under a burst of sign-ins the peak RSS can
	// exceed the process's usual size by about twice MaxConcurrentHashes ×
	// Argon2.Memory; a GOMEMLIMIT trims that (BENCHMARKS.md has figures).
	// Default runtime.GOMAXPROCS(0).
	MaxConcurrentHashes int
	// HashQueue is how many sign-ins may wait for a hashing slot in each
	// of the two lanes (known devices, everyone else: see Limits); beyond
	// it they get 503 with Retry-After. Requests without a known device
	// hold at most half of MaxConcurrentHashes (at least one) slots.
	// Default 4 × MaxConcurrentHashes.
	HashQueue int
	// PasswordPolicy, when set, adds rules for new passwords after the
	// built-in ones (PasswordMinLength to 256 characters, not the
	// username), for every user, before the tenant's password policy
	// (GET/POST /tenant/password_policy). Its error message is shown to
	// the client.
	PasswordPolicy func(username, password string) error
	// PasswordMinLength is the fewest characters (code points of the NFKC
	// form) a new password may have, and the floor of every tenant's
	// password policy (a stored min_length below it is answered and
	// applied as it). Default 8; New fails below 8 or above 256.
	PasswordMinLength int
	// Roles lists the custom roles a tenant user may have besides the
	// built-in RoleAdmin, RoleStandardUser, RoleStandardInternationalUser
	// and RoleQueueManager ([Auth.CreateUser] refuses any other). Each is
	// 1–64 printable characters without spaces and no built-in name, in
	// any case; New fails otherwise.
	Roles []string

	// SessionManager keeps the browser sessions of GET/POST /login and
	// POST /logout. Pass the host's own to use any scs store (PostgreSQL,
	// Redis, ... when several instances serve one site); it is used as
	// configured (but for its Store, below), and its cookie must be
	// HttpOnly, and Secure unless InsecureCookies. Default: a manager over
	// scs's in-memory store (one instance only) with an HttpOnly,
	// SameSite=Lax, Path=/ cookie named "__Host-pbxauth_session"
	// ("pbxauth_session" without Secure) and the timeouts below.
	//
	// So that the scs store holds no cookie a browser could present, New
	// changes one thing in the host's manager, for the host's sessions
	// too: its Store is replaced by a wrapper that keys the same store by
	// the SHA-256 of the session token (base64url, as scs's
	// HashTokenInStore, which New turns off because the wrapper does it).
	// Sessions of a manager that had HashTokenInStore on keep their keys;
	// those of one that had it off are ended. The wrapper offers no
	// scs.IterableStore, so the manager's Iterate panics: its keys are no
	// session tokens. Set the Store before New and leave it; several Auths
	// may share one manager.
	SessionManager *scs.SessionManager
	// SessionStore, when set and SessionManager is not, is the scs store
	// of the default manager: the safe cookie defaults with sessions kept
	// where several instances share them (for example
	// sqlstore.(*Store).SessionStore on PostgreSQL). pbxauth keys it by the
	// SHA-256 of the session token, as above, and seals what it keeps in a
	// session under that token: a copy of the store yields no token and no
	// cookie. Default: scs's in-memory store.
	SessionStore scs.Store
	// SessionIdleTimeout ends a browser session not used (GET /login) for
	// that long. Default DefaultSessionIdleTimeout (2 hours). Ignored when
	// SessionManager is set.
	SessionIdleTimeout time.Duration
	// SessionLifetime is the absolute life of a browser session, however
	// busy; a sign-in never outlives SignInTTL either. Default
	// DefaultSessionLifetime (12 hours). Ignored when SessionManager is set.
	SessionLifetime time.Duration
	// InsecureCookies drops Secure from the session cookie, for plain-HTTP
	// development only.
	InsecureCookies bool
	// TrustedOrigins lists origins ("https://admin.example.com") other than
	// the API's own whose pages may POST to the cookie routes; cross-origin
	// requests from anywhere else are refused with 403 (see
	// [http.CrossOriginProtection]). An invalid origin makes New fail.
	TrustedOrigins []string

	// Mailer sends the second-factor codes and the password-reset links.
	// Default: none, and then POST /auth/send_otp answers 503 and
	// forget_password sends nothing. [LogMailer] writes mails to a log for
	// development; [SMTPMailer] sends them.
	Mailer Mailer
	// Mail overrides the subjects and bodies of those mails; nil templates
	// keep the defaults.
	Mail MailTemplates
	// MailRetryDelay is the wait before the first retry of a reset mail
	// after a temporary failure; it doubles for each further one. Default
	// 30 seconds.
	MailRetryDelay time.Duration
	// MailRetryWindow is how long a reset mail is tried, from its request;
	// then it is dropped with the event mail_failed and an ERROR log.
	// Default 1 hour.
	MailRetryWindow time.Duration
	// MailWorkers is how many reset mails this instance sends at once.
	// Every instance sharing the Store delivers its outbox. Default 4.
	MailWorkers int
	// VolatileMail lets New accept a Store that does not implement
	// [Outbox]: reset requests then wait in memory and are lost when the
	// process ends. The shipped stores keep the outbox.
	VolatileMail bool

	// TrustedProxies lists the peers whose forwarding header
	// (ForwardedHeader) is believed when deciding a client's address. Default: none, RemoteAddr is used
	// (and forwarding headers from other peers are logged, at most once a
	// minute).
	TrustedProxies []netip.Prefix
	// ForwardedHeader names the one forwarding header believed from
	// TrustedProxies: "X-Forwarded-For" (the default) or "Forwarded"
	// (RFC 7239). The other is ignored, so a client cannot slip in the
	// header its proxy does not manage. The client is the right-most entry
	// that is not itself a trusted address; an entry that is no address
	// ("unknown", an obfuscated identifier) is keyed by its text, shown as
	// "fwd:" and its first 64 visible ASCII bytes, never as the proxy.
	ForwardedHeader string

	// Limits sets the brute-force and abuse limits; its zero fields mean
	// the defaults (see [Limits]).
	Limits Limits

	// Now is the clock. Default time.Now. Tests inject a fake one.
	Now func() time.Time

	// OnEvent, when set, is called synchronously for every security event
	// (see [EventKind]), with the context of the request it happened in. It
	// must not block for long.
	OnEvent func(context.Context, Event)

	// Logger receives backend failures and configuration warnings (never
	// secrets); a line written for a request carries its request_id (see
	// [RequestInfo]). At start, New warns there of each feature that is off
	// or unsafe: authenticator apps and passkeys without EncryptionKeys,
	// passkeys without an RP ID, no Mailer or mail to the log,
	// InsecureCookies. Default slog.Default().
	Logger *slog.Logger

	// LoginRedirect is where the browser lands after a Microsoft sign-in
	// started at POST /login/by_microsoft, with ?error=CODE when it failed.
	// Default "/".
	LoginRedirect string

	// EncryptionKeys are 32-byte keys that seal authenticator-app secrets
	// at rest (AES-256-GCM, bound to the user) and key the hashes of
	// recovery codes. The first key seals; every key opens, so a new key
	// goes first and an old one stays listed until no secret needs it.
	// Without keys, enrolling an app answers 404; a user who already has
	// one cannot sign in (503) until the key is back.
	//
	// With keys, a Microsoft sign-in's start also stores nothing: its
	// state travels sealed in the OAuth state parameter (under keys
	// derived from these, bound to PublicURL), so that no number of starts
	// can fill the Store or make the sign-in unavailable to others. A
	// state sealed with a key no longer listed is refused at the callback.
	// Without keys, New logs a warning: those states are stored (see
	// Limits.PendingStates).
	//
	// Passkeys need keys too: each ceremony's state (its challenge, and
	// for a registration the user, sign-in and epoch) travels sealed in its
	// flow token, bound to PublicURL and the RP ID. Without keys every
	// passkey route answers 404 and New logs it.
	EncryptionKeys [][]byte

	// Passkeys configures passkeys (WebAuthn): see [PasskeyConfig].
	Passkeys PasskeyConfig

	// MicrosoftRedirectURL, when set, is the full redirect URI registered
	// at Entra ID, replacing the one built from PublicURL
	// ({PublicURL}/auth/sign_in/microsoft/callback). The host then serves
	// [Auth.MicrosoftCallback] at that URL, for example to keep an Entra
	// registration made for PortSIP (https://HOST:8887/ms365/callback).
	MicrosoftRedirectURL string
	// RequireExchangeChallenge makes code_challenge mandatory at POST
	// /auth/sign_in/{provider} (400 without it), so that every flow token
	// handed to a callback_url can only be traded with its code_verifier.
	// Default off: the challenge is optional, as PortSIP's clients may not
	// send one.
	RequireExchangeChallenge bool

	// TracerProvider makes the span of every operation (pbxauth.sign_in,
	// ...), with its outcome, the sign-in method, the tenant ID and the
	// request ID as attributes; never usernames, addresses, codes or tokens. Default:
	// the global provider (otel.GetTracerProvider), a no-op until the host
	// sets one.
	TracerProvider trace.TracerProvider
	// MeterProvider makes pbxauth's metrics (sign-ins, second-factor
	// checks, refreshes, lockouts and mails by outcome; hashing wait and
	// queue depth; outbox depth and oldest age). Default: the global
	// provider (otel.GetMeterProvider).
	MeterProvider metric.MeterProvider

	// HTTPClient makes the requests to identity providers (OIDC discovery,
	// signing keys, code exchange, UserInfo), for hosts that need a proxy
	// or their own TLS roots. pbxauth uses a copy that follows no redirect
	// (a 3xx is an error), so client credentials go nowhere but to the
	// token endpoint discovery named; the host's client is not changed.
	// Default: a client with a 10-second timeout.
	HTTPClient *http.Client
}

// Auth serves the authentication API. Create it with [New]; it is safe for
// concurrent use.
type Auth struct {
	cfg Config
	// timed is Config.Store with its calls timed; pbxauth calls the Store
	// through Auth.store.
	timed  *timedStore
	hasher *hasher.Hasher
	log    *slog.Logger
	mux    *http.ServeMux
	// handler is mux, giving each request its ID (requestid.go).
	handler http.Handler
	// sessions keeps browser sessions; csrf guards the cookie routes.
	sessions *scs.SessionManager
	csrf     *http.CrossOriginProtection
	// tel reports spans and metrics.
	tel *telemetry
	// apps seals authenticator-app secrets and hashes recovery codes; nil
	// without Config.EncryptionKeys.
	apps *appKeys
	// states seals the states of Microsoft sign-ins, whose starts starts
	// counts per address; both nil without Config.EncryptionKeys.
	states *sealedstate.Keys
	starts *memrate.Limiter
	// passkeys serves passkeys; nil when they are off. related is the
	// well-known document of Config.Passkeys.RelatedOrigins, or nil.
	passkeys *passkeys
	related  relatedDoc
	// passkeyStarts counts passkey sign-in starts per address; nil
	// without passkeys.
	passkeyStarts *memrate.Limiter
	// origins are the parsed Config.CallbackOrigins.
	origins callbackurl.List
	// providers caches discovered Microsoft providers.
	providers providerCache
	// mailer is Config.Mailer, or one that always fails; mailPool's
	// workers deliver outbox, the Store's or a volatile one.
	mailer   Mailer
	outbox   store.Outbox
	mailPool *outbox.Pool
	// forwarded rate-limits the warning about untrusted forwarding headers.
	forwarded forwardedWarning
	// background holds the goroutines that mail notices off the request path.
	background sync.WaitGroup
}

// New checks cfg, fills in defaults and returns a ready Auth.
func New(cfg Config) (*Auth, error) {
	if cfg.Store == nil {
		return nil, errors.New("pbxauth: Config.Store is required")
	}
	if cfg.Realm == "" {
		cfg.Realm = "pbxauth"
	}
	if err := checkCustomRoles(cfg.Roles); err != nil {
		return nil, err
	}
	if cfg.PasswordMinLength == 0 {
		cfg.PasswordMinLength = minNewPassword
	}
	if cfg.PasswordMinLength < minNewPassword || cfg.PasswordMinLength > maxNewPassword {
		return nil, errors.New("pbxauth: Config.PasswordMinLength must be 8-256")
	}
	if cfg.AccessTokenTTL <= 0 {
		cfg.AccessTokenTTL = time.Hour
	}
	if cfg.SignInTTL <= 0 {
		cfg.SignInTTL = 30 * 24 * time.Hour
	}
	if cfg.FlowTTL <= 0 {
		cfg.FlowTTL = 10 * time.Minute
	}
	if cfg.Argon2 == (Argon2Params{}) {
		cfg.Argon2 = DefaultArgon2
	}
	if cfg.Argon2.Memory == 0 || cfg.Argon2.Time == 0 || cfg.Argon2.Threads == 0 {
		return nil, errors.New("pbxauth: Config.Argon2 must set Memory, Time and Threads")
	}
	if cfg.MaxConcurrentHashes <= 0 {
		cfg.MaxConcurrentHashes = runtime.GOMAXPROCS(0)
	}
	if cfg.HashQueue <= 0 {
		cfg.HashQueue = 4 * cfg.MaxConcurrentHashes
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := checkForwarding(&cfg); err != nil {
		return nil, err
	}
	if cfg.LoginRedirect == "" {
		cfg.LoginRedirect = "/"
	}
	if _, err := url.Parse(cfg.LoginRedirect); err != nil {
		return nil, fmt.Errorf("pbxauth: Config.LoginRedirect: %w", err)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.MailRetryDelay <= 0 {
		cfg.MailRetryDelay = 30 * time.Second
	}
	if cfg.MailRetryWindow <= 0 {
		cfg.MailRetryWindow = time.Hour
	}
	if cfg.MailWorkers <= 0 {
		cfg.MailWorkers = 4
	}
	ob, ok := cfg.Store.(store.Outbox)
	if !ok && !cfg.VolatileMail {
		return nil, errors.New("pbxauth: Config.Store does not implement Outbox, so accepted reset mails would be lost on restart; implement it, or set Config.VolatileMail to accept that")
	}
	if !ok {
		ob = memoutbox.New()
	}
	cfg.Limits = cfg.Limits.withDefaults()
	cfg.Mail.SecondFactor = cfg.Mail.SecondFactor.orDefault(defaultMail.SecondFactor)
	cfg.Mail.SecondFactorLocked = cfg.Mail.SecondFactorLocked.orDefault(defaultMail.SecondFactorLocked)
	cfg.Mail.PasswordReset = cfg.Mail.PasswordReset.orDefault(defaultMail.PasswordReset)
	cfg.Mail.AccountChanged = cfg.Mail.AccountChanged.orDefault(defaultMail.AccountChanged)
	h, err := hasher.New(hasher.Params(cfg.Argon2), cfg.MaxConcurrentHashes, cfg.HashQueue)
	if err != nil {
		return nil, err
	}
	origins, err := callbackurl.Parse(cfg.CallbackOrigins)
	if err != nil {
		return nil, fmt.Errorf("pbxauth: Config.CallbackOrigins: %w", err)
	}
	if err := checkAbsoluteURL("PublicURL", cfg.PublicURL); err != nil {
		return nil, err
	}
	if err := checkAbsoluteURL("MicrosoftRedirectURL", cfg.MicrosoftRedirectURL); err != nil {
		return nil, err
	}
	apps, err := newAppKeys(cfg.EncryptionKeys)
	if err != nil {
		return nil, err
	}
	sessions, err := newSessionManager(cfg)
	if err != nil {
		return nil, err
	}
	csrf, err := newCrossOriginProtection(cfg.TrustedOrigins)
	if err != nil {
		return nil, err
	}
	tel, err := newTelemetry(cfg.TracerProvider, cfg.MeterProvider, h, ob, cfg.Now, cfg.Mailer)
	if err != nil {
		return nil, fmt.Errorf("pbxauth: telemetry: %w", err)
	}
	timed, err := newTimedStore(cfg.Store, tel.meter)
	if err != nil {
		return nil, fmt.Errorf("pbxauth: telemetry: %w", err)
	}
	a := &Auth{cfg: cfg, timed: timed, tel: tel, apps: apps, hasher: h, log: newLogger(cfg.Logger), origins: origins, mailer: cfg.Mailer, outbox: ob, sessions: sessions, csrf: csrf}
	if a.mailer == nil {
		a.mailer = noMailer{} // each failed send logs errNoMailer, which names the fix
	}
	if err := a.initStates(); err != nil {
		return nil, err
	}
	if err := a.initPasskeys(); err != nil {
		return nil, err
	}
	a.warnFeatures()
	a.mux = a.buildMux()
	a.handler = a.WithRequestInfo(a.mux)
	a.mailPool = a.newMailPool()
	if cfg.Mailer != nil {
		a.mailPool.Start()
	}
	return a, nil
}

// store is the Store as pbxauth calls it: Config.Store with its calls
// timed for pbxauth.store.duration, or Config.Store itself while no meter
// provider could record a duration (metricsIdle: the global placeholder
// until the host sets a provider, or metric/noop's). Every request makes
// a Store call or more, and the wrapper's frame, defer and checks cost
// each one even when nothing records.
func (a *Auth) store() store.Store {
	if a.tel.unmetered != nil && a.tel.unmetered() {
		return a.cfg.Store
	}
	return a.timed
}

// checkAbsoluteURL checks a URL of Config (PublicURL, MicrosoftRedirectURL):
// empty, or an absolute http(s) URL without credentials, query or fragment,
// as redirect URIs are registered at an IdP and links are built from it.
func checkAbsoluteURL(field, raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("pbxauth: Config.%s %q must be an absolute http(s) URL such as https://pbx.example.com:8887/api", field, raw)
	}
	return nil
}

// HashPassword hashes password with the Auth's configured parameters, under
// its hashing bound, into the argon2id PHC string a store keeps. A password
// longer than 1024 bytes is ErrInvalid: it is never hashed.
func (a *Auth) HashPassword(ctx context.Context, password string) (string, error) {
	if len(password) > maxPasswordBytes {
		return "", invalidf("password longer than %d bytes", maxPasswordBytes)
	}
	return a.hasher.Hash(ctx, hasher.Ordinary, "", password)
}

// now is the injectable clock, in UTC.
func (a *Auth) now() time.Time { return a.cfg.Now().UTC() }
