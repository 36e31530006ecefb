// This file reports what pbxauth does to OpenTelemetry: a span per
// operation (pbxauth.sign_in, ...) with its outcome, the sign-in method,
// the tenant ID and the request ID; and counters of sign-ins, second-factor checks, refreshes,
// lockouts and mails by outcome, with the hashing wait and queue depth and
// the outbox's depth and oldest age. Every counter exists at 0 from the
// start for every outcome it can have; durations are in seconds, in
// buckets made for them.
// Attributes never hold usernames, addresses, codes, tokens or URL queries.

package pbxauth

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/pbxauth/pbxauth/internal/hasher"
	"github.com/pbxauth/pbxauth/store"
)

// instrumentation is the name of pbxauth's tracer and meter.
const instrumentation = "github.com/pbxauth/pbxauth"

// Attribute keys.
const (
	attrOutcome = attribute.Key("pbxauth.outcome")
	attrMethod  = attribute.Key("pbxauth.method")
	attrTenant  = attribute.Key("pbxauth.tenant_id")
	attrKind    = attribute.Key("pbxauth.mail")
	attrStatus  = attribute.Key("http.response.status_code")
	attrRequest = attribute.Key("pbxauth.request_id")
)

// Outcomes of the counters, and the kind of a second-factor mail (a reset
// mail's is mailKindReset).
const (
	outcomeSuccess       = "success"
	outcomeFailure       = "failure"
	outcomeReuse         = "reuse"
	outcomeSent          = "sent"
	outcomeLogged        = "logged" // written to the log by a LogMailer, not sent
	outcomeRequested     = "requested"
	outcomeFailed        = "failed"
	outcomeMisconfigured = "misconfigured"
	mailKindCode         = "second_factor"
)

// secondsBuckets are the bucket boundaries of every duration histogram,
// from 100 µs (a memory store's call) to 10 s (a hash queued behind a
// burst), instead of the SDK's defaults made for milliseconds.
var secondsBuckets = metric.WithExplicitBucketBoundaries(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

// secondsHistogram makes a histogram of durations in seconds.
func secondsHistogram(m metric.Meter, name, desc string) (metric.Float64Histogram, error) {
	return m.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc), secondsBuckets)
}

// telemetry holds the tracer and the instruments of one Auth.
type telemetry struct {
	tracer trace.Tracer
	// untraced says that a span started now would record nothing because
	// no tracer provider exists (see tracingIdle); nil when that cannot be
	// known without starting one.
	untraced func() bool
	// unmetered is metricsIdle of the meter provider: it says that no
	// instrument would record now; nil when that cannot be known.
	unmetered     func() bool
	meter         metric.Meter
	signIns       metric.Int64Counter
	secondFactors metric.Int64Counter
	refreshes     metric.Int64Counter
	lockouts      metric.Int64Counter
	mails         metric.Int64Counter
	hashWait      metric.Float64Histogram
	// delivered is the outcome of a mail the mailer took: logged for a
	// LogMailer, else sent.
	delivered string
}

// newTelemetry makes the instruments from the providers of cfg (the global
// ones by default), sets every counter at 0 and observes h's queues.
func newTelemetry(tp trace.TracerProvider, mp metric.MeterProvider, h *hasher.Hasher, ob store.Outbox, now func() time.Time, mailer Mailer) (*telemetry, error) {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	m := mp.Meter(instrumentation)
	t := &telemetry{tracer: tp.Tracer(instrumentation), meter: m, delivered: outcomeSent, untraced: tracingIdle(tp), unmetered: metricsIdle(mp)}
	switch mailer.(type) {
	case LogMailer, *LogMailer:
		t.delivered = outcomeLogged
	}
	var err error
	counter := func(name, desc string) metric.Int64Counter {
		c, e := m.Int64Counter(name, metric.WithDescription(desc), metric.WithUnit("{event}"))
		if err == nil {
			err = e
		}
		return c
	}
	t.signIns = counter("pbxauth.sign_ins", "Sign-ins by outcome (success, failure) and method.")
	t.secondFactors = counter("pbxauth.second_factor.checks", "Second-factor codes checked, by outcome (success, failure).")
	t.refreshes = counter("pbxauth.refreshes", "Refreshes by outcome (success, reuse).")
	t.lockouts = counter("pbxauth.lockouts", "Locks begun by repeated failures.")
	t.mails = counter("pbxauth.mails", "Mails by kind (second_factor, password_reset) and outcome (sent, logged, requested, failed, misconfigured).")
	if err != nil {
		return nil, err
	}
	t.zero()
	if t.hashWait, err = secondsHistogram(m, "pbxauth.hash.wait", "How long a password hash waited for a hashing slot."); err != nil {
		return nil, err
	}
	depth, err := m.Int64ObservableGauge("pbxauth.hash.queue", metric.WithUnit("{request}"),
		metric.WithDescription("Sign-ins waiting for a hashing slot, by lane."))
	if err != nil {
		return nil, err
	}
	if _, err := m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		s := h.Pool().Stats()
		o.ObserveInt64(depth, int64(s.KnownQueue), metric.WithAttributes(attribute.String("pbxauth.lane", "known_device")))
		o.ObserveInt64(depth, int64(s.OrdinaryQueue), metric.WithAttributes(attribute.String("pbxauth.lane", "ordinary")))
		return nil
	}, depth); err != nil {
		return nil, err
	}
	h.OnWait(func(d time.Duration) { t.hashWait.Record(context.Background(), d.Seconds()) })
	if r, ok := ob.(store.OutboxReporter); ok {
		if err := observeOutbox(m, r, now); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// zero adds 0 to every counter for every outcome it can have, so that each
// series exists from the first collection and a rate or an alert on it
// works before the first event.
func (t *telemetry) zero() {
	ctx := context.Background()
	add := func(c metric.Int64Counter, attrs ...attribute.KeyValue) {
		c.Add(ctx, 0, metric.WithAttributes(attrs...))
	}
	for _, method := range []string{"password", methodMicrosoft, methodPasskey} {
		for _, o := range []string{outcomeSuccess, outcomeFailure} {
			add(t.signIns, attrOutcome.String(o), attrMethod.String(method))
		}
	}
	for _, o := range []string{outcomeSuccess, outcomeFailure} {
		add(t.secondFactors, attrOutcome.String(o))
	}
	for _, o := range []string{outcomeSuccess, outcomeReuse} {
		add(t.refreshes, attrOutcome.String(o))
	}
	add(t.lockouts)
	for _, o := range []string{t.delivered, outcomeFailed} {
		add(t.mails, attrKind.String(mailKindCode), attrOutcome.String(o))
	}
	for _, o := range []string{outcomeRequested, t.delivered, outcomeFailed, outcomeMisconfigured} {
		add(t.mails, attrKind.String(mailKindReset), attrOutcome.String(o))
	}
}

// observeOutbox reports the outbox's depth and the age of its oldest
// record, read from the store at each collection.
func observeOutbox(m metric.Meter, r store.OutboxReporter, now func() time.Time) error {
	depth, err := m.Int64ObservableGauge("pbxauth.outbox.depth", metric.WithUnit("{mail}"),
		metric.WithDescription("Accepted mails not yet delivered or given up."))
	if err != nil {
		return err
	}
	age, err := m.Float64ObservableGauge("pbxauth.outbox.oldest_age", metric.WithUnit("s"),
		metric.WithDescription("Age of the oldest mail in the outbox; 0 when it is empty."))
	if err != nil {
		return err
	}
	_, err = m.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		n, oldest, err := r.OutboxStats(ctx)
		if err != nil {
			return err // the collection reports it; the gauges keep their last value
		}
		o.ObserveInt64(depth, int64(n))
		a := 0.0
		if !oldest.IsZero() {
			a = now().Sub(oldest).Seconds()
		}
		o.ObserveFloat64(age, a)
		return nil
	}, depth, age)
	return err
}

// record counts an event, and names its method and tenant on the
// request's span.
func (t *telemetry) record(ctx context.Context, e Event) {
	if rq := requestFrom(ctx); rq == nil || !rq.untraced { // else the span there is not pbxauth's
		span := trace.SpanFromContext(ctx)
		if e.TenantID != "" {
			span.SetAttributes(attrTenant.String(e.TenantID))
		}
		if e.Method != "" {
			span.SetAttributes(attrMethod.String(e.Method))
		}
	}
	add := func(c metric.Int64Counter, attrs ...attribute.KeyValue) {
		c.Add(ctx, 1, metric.WithAttributes(attrs...))
	}
	method := attrMethod.String(e.Method)
	switch e.Kind {
	case EventSignIn, EventMicrosoftSignIn:
		add(t.signIns, attrOutcome.String(outcomeSuccess), method)
	case EventSignInFailed, EventMicrosoftSignInBad:
		add(t.signIns, attrOutcome.String(outcomeFailure), method)
	case EventTwoFactorVerified:
		add(t.secondFactors, attrOutcome.String(outcomeSuccess))
	case EventTwoFactorFailed:
		add(t.secondFactors, attrOutcome.String(outcomeFailure))
	case EventRefresh:
		add(t.refreshes, attrOutcome.String(outcomeSuccess))
	case EventRefreshReuse:
		add(t.refreshes, attrOutcome.String(outcomeReuse))
	case EventLockout:
		add(t.lockouts)
	case EventTwoFactorSent:
		t.mail(ctx, mailKindCode, t.delivered)
	case EventResetRequested:
		t.mail(ctx, mailKindReset, outcomeRequested)
	case EventMailFailed:
		t.mail(ctx, mailKindReset, outcomeFailed)
	case EventMailMisconfigured:
		t.mail(ctx, mailKindReset, outcomeMisconfigured)
	}
}

// mail counts a mail of kind by outcome. A delivered reset mail and a code
// mail that failed have no event of their own, so the outbox and send_otp
// call this directly (the former with t.delivered).
func (t *telemetry) mail(ctx context.Context, kind, outcome string) {
	t.mails.Add(ctx, 1, metric.WithAttributes(attrKind.String(kind), attrOutcome.String(outcome)))
}

// tracingIdle returns, for a provider whose spans are known to record
// nothing as long as it says so, a function that says so: always for
// trace/noop's provider; for the global placeholder (otel's own, before
// the host sets a provider), until otel.SetTracerProvider replaces it,
// after which pbxauth's tracer delegates to the new provider. Otherwise
// nil: only a span started can tell. Starting a span that records
// nothing still costs a request three allocations and a context layer.
func tracingIdle(tp trace.TracerProvider) func() bool {
	_, noop := tp.(tracenoop.TracerProvider)
	_, noopPtr := tp.(*tracenoop.TracerProvider)
	return providerIdle(tp, noop || noopPtr, "tracerProvider", func() any { return otel.GetTracerProvider() })
}

// metricsIdle is tracingIdle for meter providers: it says when no
// instrument of mp can record (metric/noop's provider, or the global
// placeholder until otel.SetMeterProvider replaces it, after which the
// instruments made from it delegate to the new provider). Store calls
// are then not timed at all (Auth.store), rather than each paying a
// wrapper's frame, defer and checks to learn that nothing records.
func metricsIdle(mp metric.MeterProvider) func() bool {
	_, noop := mp.(metricnoop.MeterProvider)
	_, noopPtr := mp.(*metricnoop.MeterProvider)
	return providerIdle(mp, noop || noopPtr, "meterProvider", func() any { return otel.GetMeterProvider() })
}

// providerIdle returns a function that says whether provider p records
// nothing: always when it is its API's noop provider; while it is the
// global one (global returns it) when it is otel's placeholder of type
// name; nil otherwise. Reading the global is one atomic load.
func providerIdle(p any, noop bool, name string, global func() any) func() bool {
	if noop {
		return func() bool { return true }
	}
	if rt := reflect.TypeOf(p); rt != nil && rt.Kind() == reflect.Pointer && rt.Elem().PkgPath() == globalPackage &&
		rt.Elem().Name() == name && p == global() {
		return func() bool { return global() == p }
	}
	return nil
}

// globalPackage holds otel's placeholder providers.
const globalPackage = "go.opentelemetry.io/otel/internal/global"

// traced wraps the handler of one route in a span named after the
// operation, ending with the answer's status and outcome. When no span
// could record (tracingIdle), none is started: the request's context
// stays as it came, and the request is marked so that record leaves
// whatever span the host put there alone.
func (t *telemetry) traced(name string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if t.untraced != nil && t.untraced() {
			if rq := requestFrom(r.Context()); rq != nil {
				rq.untraced = true
				h.ServeHTTP(w, r)
				return
			}
		}
		ctx, span := t.tracer.Start(r.Context(), name, serverSpanOptions...)
		defer span.End()
		if !span.IsRecording() {
			// No-op or unsampled: nothing to annotate, so no copy of the
			// request and no writer wrapper on this hot path.
			h.ServeHTTP(w, r)
			return
		}
		span.SetAttributes(attrRequest.String(requestIDOf(ctx)))
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r.WithContext(ctx))
		span.SetAttributes(attrStatus.Int(sw.status), attrOutcome.String(outcome(sw.status)))
		if sw.status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(sw.status))
		}
	})
}

// serverSpanOptions are the options of every span, made once: passed as
// they are, they cost no slice per request.
var serverSpanOptions = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer)}

// outcome names an answer's status for spans.
func outcome(status int) string {
	switch {
	case status < 400:
		return "success"
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return "refused"
	case status == http.StatusTooManyRequests:
		return "limited"
	case status == http.StatusServiceUnavailable:
		return "unavailable"
	case status >= 500:
		return "error"
	}
	return "invalid"
}

// spanName is the span of a route: pbxauth.sign_in for /auth/sign_in,
// pbxauth.get_login for GET /login; path values stay out of it.
func spanName(method, path string) string {
	p := strings.TrimPrefix(path, "/auth/")
	p = strings.TrimPrefix(p, "/")
	p = strings.NewReplacer("/", ".", "{", "", "}", "").Replace(p)
	if method == "GET" && (p == "login" || p == "sessions") {
		p = "get_" + p
	}
	return "pbxauth." + p
}

// statusWriter remembers the status a handler answered. It is used only
// inside pbxauth's own routes, whose handlers need nothing else of the
// ResponseWriter; RequireBearer, which wraps the host's handlers, wraps
// nothing.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
