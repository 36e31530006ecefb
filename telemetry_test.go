// Spans and metrics of a scripted flow, read from the OpenTelemetry SDK's
// in-memory recorder and manual reader; no attribute may hold a username,
// an address, a password, a code or a token.

package pbxauth_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
)

func TestTelemetry(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	reader := sdkmetric.NewManualReader()
	e := newEnv(t, func(c *pbxauth.Config) {
		c.TracerProvider = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
		c.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	})
	access, refresh := e.signIn(t, aliceCreds())
	bad := aliceCreds()
	bad["password"] = "wrong-password-1"
	if r := e.c.Do("POST", "/auth/sign_in", bad); r.Status != 401 {
		t.Fatalf("wrong password: %d", r.Status)
	}
	r := e.c.Do("POST", "/auth/refresh_token", map[string]any{"refresh_token": refresh})
	if r.Status != 200 {
		t.Fatalf("refresh: %d", r.Status)
	}
	e.c.Do("GET", "/auth/user", nil, apitest.Bearer(r.String("access_token"))...)
	secrets := []string{"alice", alicePW, "wrong-password-1", access, refresh, r.String("access_token"), "127.0.0.1", "acme.example.test"}

	got := map[string][]string{}
	for _, s := range spans.Ended() {
		attrs := map[attribute.Key]string{}
		for _, kv := range s.Attributes() {
			attrs[kv.Key] = kv.Value.String()
			for _, secret := range secrets {
				if strings.Contains(kv.Value.String(), secret) {
					t.Errorf("span %s attribute %s holds %q", s.Name(), kv.Key, secret)
				}
			}
		}
		got[s.Name()] = append(got[s.Name()], attrs["pbxauth.outcome"]+" "+attrs["pbxauth.tenant_id"]+" "+attrs["pbxauth.method"])
	}
	want := map[string][]string{
		"pbxauth.sign_in":       {"success " + acmeID + " password", "refused " + acmeID + " password"},
		"pbxauth.refresh_token": {"success " + acmeID + " password"},
		"pbxauth.user":          {"success  "},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("spans %v, want %v", got, want)
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	sums := map[string]int64{}
	seen := map[string]bool{}
	ops := map[string]uint64{} // store calls timed, by operation
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			seen[m.Name] = true
			if h, ok := m.Data.(metricdata.Histogram[float64]); ok && m.Name == "pbxauth.store.duration" {
				for _, dp := range h.DataPoints {
					op, _ := dp.Attributes.Value("pbxauth.store.operation")
					ops[op.AsString()] += dp.Count
				}
			}
			if s, ok := m.Data.(metricdata.Sum[int64]); ok {
				for _, dp := range s.DataPoints {
					o, _ := dp.Attributes.Value("pbxauth.outcome")
					sums[m.Name+" "+o.String()] += dp.Value
					for _, kv := range dp.Attributes.ToSlice() {
						for _, secret := range secrets {
							if strings.Contains(kv.Value.String(), secret) {
								t.Errorf("metric %s attribute %s holds %q", m.Name, kv.Key, secret)
							}
						}
					}
				}
			}
		}
	}
	for k, v := range map[string]int64{"pbxauth.sign_ins success": 1, "pbxauth.sign_ins failure": 1, "pbxauth.refreshes success": 1} {
		if sums[k] != v {
			t.Errorf("%s = %d, want %d (all: %v)", k, sums[k], v, sums)
		}
	}
	if ops["Grant"] == 0 || ops["UserByName"] == 0 || ops["CreateFamily"] == 0 {
		t.Errorf("store calls timed %v, want Grant, UserByName and CreateFamily among them", ops)
	}
	for _, name := range []string{"pbxauth.hash.wait", "pbxauth.hash.queue", "pbxauth.outbox.depth", "pbxauth.outbox.oldest_age", "pbxauth.store.duration"} {
		if !seen[name] {
			t.Errorf("metric %s not reported", name)
		}
	}
}

// TestTelemetryGlobalProvider: with no TracerProvider configured and none
// set globally, pbxauth starts no span, and an event then annotates no
// span of the host's; once the host sets a global provider, pbxauth's
// spans go to it, children of the host's.
func TestTelemetryGlobalProvider(t *testing.T) {
	hostSpans := tracetest.NewSpanRecorder()
	hostTracer := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(hostSpans)).Tracer("host")
	e := newEnv(t) // Config.TracerProvider nil: the global one
	c := apitest.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, span := hostTracer.Start(r.Context(), "host")
		defer span.End()
		e.auth.Handler().ServeHTTP(w, r.WithContext(ctx))
	}), nil)
	bad := aliceCreds()
	bad["password"] = "wrong-password-1"
	signIns := func() {
		t.Helper()
		if r := c.Do("POST", "/auth/sign_in", bad); r.Status != 401 {
			t.Fatalf("wrong password: %d", r.Status)
		}
		if r := c.Do("POST", "/auth/sign_in", aliceCreds()); r.Status != 200 {
			t.Fatalf("sign in: %d", r.Status)
		}
	}
	signIns()
	for _, s := range hostSpans.Ended() {
		for _, kv := range s.Attributes() {
			t.Errorf("the host's span %s got pbxauth's attribute %s=%s", s.Name(), kv.Key, kv.Value.String())
		}
	}

	// The global provider is set once for the test binary (otel delegates
	// its placeholder once); spans are counted by their parent.
	globalOnce.Do(func() { otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(globalSpans))) })
	before := len(hostSpans.Ended())
	signIns()
	ours := 0
	for _, s := range globalSpans.Ended() {
		for _, h := range hostSpans.Ended()[before:] {
			if s.Name() == "pbxauth.sign_in" && s.Parent().SpanID() == h.SpanContext().SpanID() {
				ours++
			}
		}
	}
	if ours != 2 {
		t.Errorf("%d pbxauth.sign_in spans under the host's after otel.SetTracerProvider, want 2", ours)
	}
}

var (
	globalOnce  sync.Once
	globalSpans = tracetest.NewSpanRecorder()
)

// TestTelemetryResetMailSent: a delivered reset mail is counted as sent.
func TestTelemetryResetMailSent(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	e := newMailEnv(t, func(c *pbxauth.Config) { c.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)) })
	if r := e.c.Do("POST", "/auth/forget_password", map[string]any{"domain": acmeDomain, "username": "alice", "callback_url": callbackURL}); r.Status != 200 {
		t.Fatalf("forget_password: %d %s", r.Status, r.Body)
	}
	e.smtp.Receive(t)
	sent := func() int64 {
		var n int64
		for _, m := range metricsOf(t, reader) {
			if s, ok := m.Data.(metricdata.Sum[int64]); ok && m.Name == "pbxauth.mails" {
				for _, dp := range s.DataPoints {
					k, _ := dp.Attributes.Value("pbxauth.mail")
					o, _ := dp.Attributes.Value("pbxauth.outcome")
					if k.AsString() == "password_reset" && o.AsString() == "sent" {
						n += dp.Value
					}
				}
			}
		}
		return n
	}
	// The worker counts the mail once the SMTP server's answer is read,
	// just after the server has it.
	for deadline := time.Now().Add(5 * time.Second); sent() == 0 && time.Now().Before(deadline); <-time.After(10 * time.Millisecond) {
	}
	if n := sent(); n != 1 {
		t.Errorf("%d reset mails counted as sent, want 1", n)
	}
}

// TestTelemetryGlobalMeterProvider: with no MeterProvider configured and
// none set globally, pbxauth calls the Store untimed; once the host sets a
// global provider after New, the same Auth's Store calls are timed there.
func TestTelemetryGlobalMeterProvider(t *testing.T) {
	e := newEnv(t) // Config.MeterProvider nil: the global one
	access, _ := e.signIn(t, aliceCreds())
	if r := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(access)...); r.Status != 200 {
		t.Fatalf("GET /auth/user: %d", r.Status)
	}
	// Set once for the test binary, as the global tracer provider is; its
	// counts add up over the binary's runs (-count), so the test compares
	// them before and after its own request.
	meterOnce.Do(func() { otel.SetMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(globalMetrics))) })
	grants := func() (n uint64) {
		for _, m := range metricsOf(t, globalMetrics) {
			if h, ok := m.Data.(metricdata.Histogram[float64]); ok && m.Name == "pbxauth.store.duration" {
				for _, dp := range h.DataPoints {
					if op, _ := dp.Attributes.Value("pbxauth.store.operation"); op.AsString() == "Grant" {
						n += dp.Count
					}
				}
			}
		}
		return n
	}
	before := grants()
	if r := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(access)...); r.Status != 200 {
		t.Fatalf("GET /auth/user: %d", r.Status)
	}
	if after := grants(); after <= before {
		t.Errorf("Store.Grant timed %d times before a request and %d after it: none timed after otel.SetMeterProvider", before, after)
	}
}

var (
	meterOnce     sync.Once
	globalMetrics = sdkmetric.NewManualReader()
)

// metricsOf collects reader's metrics, of every scope.
func metricsOf(t *testing.T, reader sdkmetric.Reader) []metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var ms []metricdata.Metrics
	for _, sm := range rm.ScopeMetrics {
		ms = append(ms, sm.Metrics...)
	}
	return ms
}
