// Command example runs a complete pbxauth server: the API under /api/ and a
// small sign-in page at /. See DESIGN.md ("The example server") and the
// README for flags, environment variables and the seed file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/store"
)

func main() {
	setMemoryLimit()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); errors.Is(err, flag.ErrHelp) {
		return // -h asked for the usage, which was printed
	} else if err != nil {
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(1)
	}
}

// setMemoryLimit gives the server a soft memory limit unless GOMEMLIMIT
// sets one. Each argon2id hash allocates 19 MiB afresh; in a burst of
// sign-ins, with the default GC pacing, finished hashes pile up until the
// heap is twice the live memory. A limit of 64 MiB plus the hashes that may
// run at once, less one, keeps the peak under 64 MiB + MaxConcurrentHashes ×
// 19 MiB (BENCHMARKS.md, "Burst safety"). It is a soft limit: a heap that
// needs more gets it, the collector just works harder.
func setMemoryLimit() {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	hash := int64(pbxauth.DefaultArgon2.Memory) << 10
	debug.SetMemoryLimit(64<<20 + int64(runtime.GOMAXPROCS(0)-1)*hash)
}

// options are the example's flags.
type options struct {
	addr, db, seed, smtp, mailFrom, publicURL, smtpCA string
	insecureCookies                                   bool
	requireChallenge                                  bool
	refreshGrace                                      time.Duration
	trustedProxies                                    string
	forwardedHeader                                   string
	keyFile                                           string
	metricsAddr                                       string
	devIdP                                            bool
	requestLog                                        bool
	// args are the arguments after the flags: a subcommand ("user ...").
	args []string
}

// parseFlags reads args, with each flag's environment variable as its default.
func parseFlags(args []string, getenv func(string) string) (options, error) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	var o options
	fs := flag.NewFlagSet("example", flag.ContinueOnError)
	fs.StringVar(&o.addr, "addr", env("PBXAUTH_ADDR", "127.0.0.1:8887"), "listen address; port 0 picks a free port (PBXAUTH_ADDR)")
	fs.StringVar(&o.db, "db", env("PBXAUTH_DB", defaultDB), "memory, sqlite:PATH or a postgres:// URL (PBXAUTH_DB)")
	fs.StringVar(&o.seed, "seed", env("PBXAUTH_SEED", ""), "seed file; default: the built-in demo seed (PBXAUTH_SEED)")
	fs.StringVar(&o.smtp, "smtp", env("PBXAUTH_SMTP", ""), "host:port, smtp://user:pass@host:port or smtps://…; default: mails go to the log (PBXAUTH_SMTP)")
	fs.StringVar(&o.mailFrom, "mail-from", env("PBXAUTH_MAIL_FROM", "pbx@localhost"), "sender address (PBXAUTH_MAIL_FROM)")
	fs.StringVar(&o.publicURL, "public-url", env("PBXAUTH_PUBLIC_URL", ""), "external base URL of the API; default http://ADDR/api (PBXAUTH_PUBLIC_URL)")
	fs.StringVar(&o.smtpCA, "smtp-ca", env("PBXAUTH_SMTP_CA", ""), "PEM file of CAs trusted for the SMTP server's certificate; default: the system roots (PBXAUTH_SMTP_CA)")
	grace, err := time.ParseDuration(env("PBXAUTH_REFRESH_GRACE", "0s"))
	if err != nil {
		return o, fmt.Errorf("PBXAUTH_REFRESH_GRACE: %w", err)
	}
	fs.DurationVar(&o.refreshGrace, "refresh-grace", grace, "Config.RefreshReuseGrace, e.g. 10s: a refresh retried within it gets the same pair (PBXAUTH_REFRESH_GRACE)")
	insecure, err := strconv.ParseBool(env("PBXAUTH_INSECURE_COOKIES", "false"))
	if err != nil {
		return o, fmt.Errorf("PBXAUTH_INSECURE_COOKIES: %w", err)
	}
	fs.BoolVar(&o.insecureCookies, "insecure-cookies", insecure, "drop Secure from cookies for plain-HTTP development (PBXAUTH_INSECURE_COOKIES)")
	require, err := strconv.ParseBool(env("PBXAUTH_REQUIRE_EXCHANGE_CHALLENGE", "false"))
	if err != nil {
		return o, fmt.Errorf("PBXAUTH_REQUIRE_EXCHANGE_CHALLENGE: %w", err)
	}
	fs.BoolVar(&o.requireChallenge, "require-exchange-challenge", require, "Config.RequireExchangeChallenge: a Microsoft sign-in for a callback_url must send a code_challenge, so that a leaked landing URL signs nobody in; PortSIP's own clients send none (PBXAUTH_REQUIRE_EXCHANGE_CHALLENGE)")
	devIdP, err := strconv.ParseBool(env("PBXAUTH_DEV_IDP", "false"))
	if err != nil {
		return o, fmt.Errorf("PBXAUTH_DEV_IDP: %w", err)
	}
	fs.BoolVar(&o.devIdP, "dev-idp", devIdP, "serve a stand-in Microsoft identity provider with demo accounts at /dev-idp/ and link the demo tenant to it; for development on loopback only (PBXAUTH_DEV_IDP)")
	fs.StringVar(&o.keyFile, "key-file", env("PBXAUTH_KEY_FILE", ""), "file of the 32-byte key sealing authenticator-app secrets and Microsoft credentials; default: pbxauth.key beside a SQLite file, random per run with memory, none with PostgreSQL (PBXAUTH_KEY_FILE)")
	requestLog, err := strconv.ParseBool(env("PBXAUTH_REQUEST_LOG", "true"))
	if err != nil {
		return o, fmt.Errorf("PBXAUTH_REQUEST_LOG: %w", err)
	}
	fs.BoolVar(&o.requestLog, "request-log", requestLog, "log one line per request; events and warnings are logged either way (PBXAUTH_REQUEST_LOG)")
	fs.StringVar(&o.metricsAddr, "metrics-addr", env("PBXAUTH_METRICS_ADDR", ""), "serve Prometheus /metrics there; default: none (PBXAUTH_METRICS_ADDR)")
	fs.StringVar(&o.trustedProxies, "trusted-proxies", env("PBXAUTH_TRUSTED_PROXIES", ""), "comma-separated prefixes (or addresses) whose -forwarded-header is believed (PBXAUTH_TRUSTED_PROXIES)")
	fs.StringVar(&o.forwardedHeader, "forwarded-header", env("PBXAUTH_FORWARDED_HEADER", "X-Forwarded-For"), "the one header from -trusted-proxies that names the client: X-Forwarded-For or Forwarded (RFC 7239); the other is ignored (PBXAUTH_FORWARDED_HEADER)")
	err = fs.Parse(args)
	o.args = fs.Args()
	return o, err
}

// run starts the server and serves until ctx ends. When it listens it
// prints "listening on http://HOST:PORT" to stdout.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	o, err := parseFlags(args, getenv)
	if err != nil {
		return err
	}
	if len(o.args) > 0 && o.args[0] == "user" {
		return userCommand(ctx, o, o.args[1:], stdout)
	}
	if len(o.args) > 0 && o.args[0] == "tenant" {
		return tenantCommand(ctx, o, o.args[1:], stdout)
	}
	if len(o.args) > 0 && o.args[0] == "client" {
		return clientCommand(ctx, o.args[1:], getenv, os.Stdin, stdout)
	}
	if err := checkDevIdP(o); err != nil {
		return err
	}
	// Off the request path: see logsink.go.
	log := newAsyncLog(os.Stderr, nil)
	defer log.Close()
	logger := log.Logger

	cfg := pbxauth.Config{Logger: logger, OnEvent: logEvents(logger)}
	closeStore, err := openStore(ctx, o.db, &cfg)
	if err != nil {
		return fmt.Errorf("open store %q: %w", redact(o.db), err)
	}
	defer closeStore()
	st := cfg.Store

	seed, demo, err := readSeed(o.seed)
	if err != nil {
		return err
	}
	ln, err := listen(o.addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	base := "http://" + ln.Addr().String()
	pageOrigin := ""
	if o.publicURL == "" {
		o.publicURL, pageOrigin = defaultPublicURL(base)
	}

	cfg.PublicURL = o.publicURL
	// The seed's origins, and the example's own for its /reset page.
	cfg.CallbackOrigins = slices.Concat(seed.CallbackOrigins, ownOrigins(base, o.publicURL))
	if err := configureExtras(&cfg, o, logger); err != nil {
		return err
	}
	if o.metricsAddr != "" {
		if cfg.MeterProvider, err = serveMetrics(ctx, o.metricsAddr, logger); err != nil {
			return fmt.Errorf("-metrics-addr: %w", err)
		}
	}
	if o.keyFile == "" {
		o.keyFile = keyFileFor(o.db)
	}
	if cfg.EncryptionKeys, err = encryptionKeys(ctx, o.keyFile, o.db, st); err != nil {
		return err
	}
	a, err := pbxauth.New(cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	if _, err := a.SealTenantSecrets(ctx); err != nil {
		return err
	}
	adminPW := ""
	if demo {
		adminPW = getenv("PBXAUTH_ADMIN_PASSWORD")
	}
	if err := seed.apply(ctx, a, st, adminPW, stdout); err != nil {
		return err
	}
	idp, err := devIdP(ctx, o.devIdP, st, base, o.publicURL, logger)
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	if idp != nil {
		mux.Handle(devIdPPath+"/", idp)
	}
	mux.Handle("/", toPageOrigin(pageOrigin, page()))
	h := routeAPI(mux, a.Handler())
	if o.requestLog {
		h = logRequests(h, log)
	}
	srv := newServer(a.WithRequestInfo(h), logger)

	go sweep(ctx, st, logger)
	fmt.Fprintf(stdout, "listening on %s\n", base)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Serve the clients that connected just before the signal, then stop
	// accepting: Serve returns once the backlog is empty.
	ln.drain()
	<-errc
	return drain(srv, logger)
}

// Bounds on slow clients (DESIGN.md, "The example server"): a client that
// sends its headers or body byte by byte, or never reads the answer, holds a
// connection for these at most.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 64 << 10
	// drainTimeout is how long requests in flight may finish after
	// SIGTERM or SIGINT.
	drainTimeout = 25 * time.Second
)

// newServer is the example's http.Server, bounded against slow clients.
func newServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// drain stops accepting and lets the requests in flight finish, for up to
// drainTimeout; what is still running then is cut off. Either way the
// shutdown is orderly, so it returns nil (exit 0): accepted reset mails stay
// in the outbox for the next start.
func drain(srv *http.Server, logger *slog.Logger) error {
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Warn("requests still running after the drain timeout were cut off", "timeout", drainTimeout, "err", err)
		srv.Close()
	}
	return nil
}

// sweep deletes expired records every few minutes when the store can.
func sweep(ctx context.Context, st store.Store, logger *slog.Logger) {
	sw, ok := st.(store.Sweeper)
	if !ok {
		return
	}
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := sw.DeleteExpired(ctx, time.Now()); err != nil {
				logger.Warn("sweeping expired records", "err", err)
			}
		}
	}
}

// redact hides a password in a database URL before it is printed.
func redact(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		if j := strings.LastIndex(dsn, "@"); j > i {
			return dsn[:i+3] + "…" + dsn[j:]
		}
	}
	return dsn
}
