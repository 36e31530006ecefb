// The metrics as a dashboard reads them: durations in seconds with buckets
// made for them, every counter present at 0 from the start for every
// outcome it can have, and a mail only written to the log counted as
// logged.

package pbxauth_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/store"
)

// secondsBuckets are the bucket boundaries DESIGN.md ("Observability")
// gives every duration histogram.
var secondsBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// metricsEnv is an env whose metrics are read by reader.
func metricsEnv(t *testing.T, configure ...func(*pbxauth.Config)) (*env, *sdkmetric.ManualReader) {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	withReader := func(c *pbxauth.Config) { c.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)) }
	e := newEnv(t, append([]func(*pbxauth.Config){withReader}, configure...)...)
	t.Cleanup(func() { e.auth.Close() })
	return e, reader
}

// collect reads every metric of reader, by name.
func collect(t *testing.T, reader *sdkmetric.ManualReader) map[string]metricdata.Aggregation {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]metricdata.Aggregation{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			got[m.Name] = m.Data
		}
	}
	return got
}

// counts lists the data points of the counters among ms as
// "name{attributes} value", sorted.
func counts(ms map[string]metricdata.Aggregation) []string {
	var out []string
	for name, data := range ms {
		s, ok := data.(metricdata.Sum[int64])
		if !ok || !s.IsMonotonic {
			continue
		}
		for _, dp := range s.DataPoints {
			var attrs []string
			for _, kv := range dp.Attributes.ToSlice() {
				attrs = append(attrs, string(kv.Key)+"="+kv.Value.String())
			}
			out = append(out, fmt.Sprintf("%s{%s} %d", name, strings.Join(attrs, ","), dp.Value))
		}
	}
	slices.Sort(out)
	return out
}

// count is the value of the counter name's data point with attrs, -1 when
// it has none.
func count(ms map[string]metricdata.Aggregation, name string, attrs ...attribute.KeyValue) int64 {
	s, _ := ms[name].(metricdata.Sum[int64])
	want := attribute.NewSet(attrs...)
	for _, dp := range s.DataPoints {
		if dp.Attributes.Equals(&want) {
			return dp.Value
		}
	}
	return -1
}

func TestMetricsDurationsInSecondsBuckets(t *testing.T) {
	e, reader := metricsEnv(t)
	e.signIn(t, aliceCreds())
	ms := collect(t, reader)
	for _, name := range []string{"pbxauth.hash.wait", "pbxauth.store.duration"} {
		h, ok := ms[name].(metricdata.Histogram[float64])
		if !ok || len(h.DataPoints) == 0 {
			t.Errorf("%s: no histogram data points (%T)", name, ms[name])
			continue
		}
		for _, dp := range h.DataPoints {
			if !slices.Equal(dp.Bounds, secondsBuckets) {
				t.Errorf("%s %v: buckets %v, want %v", name, dp.Attributes.ToSlice(), dp.Bounds, secondsBuckets)
				break
			}
		}
	}
}

// wantZeroCounters are the counters of a fresh Auth whose mails are
// delivered as delivered ("sent", or "logged" for a LogMailer).
func wantZeroCounters(delivered string) []string {
	want := []string{
		"pbxauth.lockouts{} 0",
		"pbxauth.refreshes{pbxauth.outcome=reuse} 0",
		"pbxauth.refreshes{pbxauth.outcome=success} 0",
		"pbxauth.second_factor.checks{pbxauth.outcome=failure} 0",
		"pbxauth.second_factor.checks{pbxauth.outcome=success} 0",
		"pbxauth.mails{pbxauth.mail=password_reset,pbxauth.outcome=failed} 0",
		"pbxauth.mails{pbxauth.mail=password_reset,pbxauth.outcome=misconfigured} 0",
		"pbxauth.mails{pbxauth.mail=password_reset,pbxauth.outcome=requested} 0",
		"pbxauth.mails{pbxauth.mail=password_reset,pbxauth.outcome=" + delivered + "} 0",
		"pbxauth.mails{pbxauth.mail=second_factor,pbxauth.outcome=failed} 0",
		"pbxauth.mails{pbxauth.mail=second_factor,pbxauth.outcome=" + delivered + "} 0",
	}
	for _, method := range []string{"microsoft", "passkey", "password"} {
		for _, outcome := range []string{"failure", "success"} {
			want = append(want, "pbxauth.sign_ins{pbxauth.method="+method+",pbxauth.outcome="+outcome+"} 0")
		}
	}
	slices.Sort(want)
	return want
}

// TestMetricsCountersStartAtZero: before any request, every counter has a
// data point at 0 for every outcome it can have, so a rate or an alert on
// it works from the first scrape.
func TestMetricsCountersStartAtZero(t *testing.T) {
	for _, c := range []struct {
		name      string
		mailer    pbxauth.Mailer
		delivered string
	}{
		{"SMTPMailer", &pbxauth.SMTPMailer{Host: "127.0.0.1", Port: 1}, "sent"},
		{"LogMailer", pbxauth.LogMailer{Logger: slog.New(slog.DiscardHandler)}, "logged"},
		{"pointer to LogMailer", &pbxauth.LogMailer{Logger: slog.New(slog.DiscardHandler)}, "logged"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, reader := metricsEnv(t, func(cfg *pbxauth.Config) { cfg.Mailer = c.mailer })
			got, want := counts(collect(t, reader)), wantZeroCounters(c.delivered)
			if !slices.Equal(got, want) {
				t.Errorf("counters of a fresh Auth:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// TestMetricsLogMailerCountsLogged: a code and a reset link written to the
// log count as logged, never as sent.
func TestMetricsLogMailerCountsLogged(t *testing.T) {
	e, reader := metricsEnv(t, func(c *pbxauth.Config) {
		c.Mailer = pbxauth.LogMailer{Logger: slog.New(slog.DiscardHandler)}
		c.CallbackOrigins = []string{"http://127.0.0.1:9999"}
	})
	e.changeUser(t, aliceID, func(u *store.User) { u.TwoFactorEnabled = true })
	if r := e.sendOTP(e.startTwoFactor(t, aliceCreds())); r.Status != 200 {
		t.Fatalf("send_otp: %d %s", r.Status, r.Body)
	}
	e.forget(t, "alice")
	e.waitOutboxEmpty(t) // the worker counts the mail before it deletes the record
	ms := collect(t, reader)
	mail := attribute.Key("pbxauth.mail")
	outcome := attribute.Key("pbxauth.outcome")
	for _, kind := range []string{"second_factor", "password_reset"} {
		if n := count(ms, "pbxauth.mails", mail.String(kind), outcome.String("logged")); n != 1 {
			t.Errorf("%s mails counted as logged: %d, want 1", kind, n)
		}
		if n := count(ms, "pbxauth.mails", mail.String(kind), outcome.String("sent")); n != -1 {
			t.Errorf("%s mails counted as sent: %d, want no such series", kind, n)
		}
	}
}

// failingMailer fails every send.
type failingMailer struct{}

func (failingMailer) Send(context.Context, pbxauth.Message) error {
	return errors.New("mail server down")
}

// TestMetricsSecondFactorMailFailed: a code that could not be mailed counts
// as a failed second-factor mail.
func TestMetricsSecondFactorMailFailed(t *testing.T) {
	e, reader := metricsEnv(t, func(c *pbxauth.Config) { c.Mailer = failingMailer{} })
	e.changeUser(t, aliceID, func(u *store.User) { u.TwoFactorEnabled = true })
	if r := e.sendOTP(e.startTwoFactor(t, aliceCreds())); r.Status != 503 {
		t.Fatalf("send_otp with the mail server down: %d %s", r.Status, r.Body)
	}
	ms := collect(t, reader)
	if n := count(ms, "pbxauth.mails", attribute.String("pbxauth.mail", "second_factor"), attribute.String("pbxauth.outcome", "failed")); n != 1 {
		t.Errorf("failed second-factor mails: %d, want 1", n)
	}
}
