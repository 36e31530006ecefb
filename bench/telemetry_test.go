// This file measures what telemetry costs the API's own bearer route, GET
// /auth/user: with no-op providers, and with the OpenTelemetry SDK (every
// span sampled and ended, metrics kept for a reader), beside the bare
// bearer check in the same run. Hosts' routes behind RequireBearer carry no
// span of pbxauth's, so their cost is BenchmarkBearer's.

package bench

import (
	"net/http"
	"testing"
	"time"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/pbxauth/pbxauth"
)

// BenchmarkUserRoute measures GET /auth/user through the API handler with
// telemetry off (no-op providers) and on (SDK providers), and the bearer
// check alone as the baseline.
func BenchmarkUserRoute(b *testing.B) {
	ts := newTokenSet(1_000)
	for _, v := range []struct {
		name string
		cfg  func(*pbxauth.Config)
	}{
		{"telemetry=noop", func(c *pbxauth.Config) {
			c.TracerProvider, c.MeterProvider = tracenoop.NewTracerProvider(), metricnoop.NewMeterProvider()
		}},
		{"telemetry=sdk", func(c *pbxauth.Config) {
			c.TracerProvider = sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
			c.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		}},
	} {
		b.Run(v.name, func(b *testing.B) {
			st, _, err := openMemory(ts, time.Now())
			if err != nil {
				b.Fatal(err)
			}
			cfg := pbxauth.Config{Store: st}
			v.cfg(&cfg)
			a, err := pbxauth.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			benchRoute(b, a.Handler(), ts.bearers)
		})
	}
	b.Run("baseline=bearer-check", func(b *testing.B) {
		st, _, err := openMemory(ts, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		a, err := pbxauth.New(pbxauth.Config{Store: st, TracerProvider: tracenoop.NewTracerProvider(), MeterProvider: metricnoop.NewMeterProvider()})
		if err != nil {
			b.Fatal(err)
		}
		benchCheck(b, a.RequireBearer, ts.bearers)
	})
}

// statusWriter is a nopWriter that counts answers other than 200.
type statusWriter struct {
	nopWriter
	bad int
}

func (w *statusWriter) WriteHeader(code int) {
	if code != http.StatusOK {
		w.bad++
	}
}

// benchRoute serves GET /auth/user with the next bearer each time; every
// answer must be 200.
func benchRoute(b *testing.B, h http.Handler, bearers []string) {
	w := &statusWriter{nopWriter: nopWriter{h: http.Header{}}}
	serveBearers(b, h, w, bearers)
	if w.bad > 0 {
		b.Fatalf("%d of %d answers were not 200", w.bad, b.N)
	}
}
