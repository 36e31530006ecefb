package pbxauth

import (
	"net/http"
	"net/http/httptest"
	"testing"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/pbxauth/pbxauth/internal/hasher"
)

// BenchmarkTracedNoop measures what the span wrapper of every route costs
// with no-op providers, beside the same handler unwrapped.
func BenchmarkTracedNoop(b *testing.B) {
	h, err := hasher.New(hasher.Params{Memory: 64, Time: 1, Threads: 1}, 1, 1)
	if err != nil {
		b.Fatal(err)
	}
	tel, err := newTelemetry(tracenoop.NewTracerProvider(), metricnoop.NewMeterProvider(), h, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	r := httptest.NewRequest(http.MethodGet, "/auth/user", nil)
	w := httptest.NewRecorder()
	for _, c := range []struct {
		name string
		h    http.Handler
	}{{"bare", inner}, {"traced", tel.traced("pbxauth.user", inner)}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.h.ServeHTTP(w, r)
			}
		})
	}
}
