package pbxauth

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"testing"
	"time"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/pbxauth/pbxauth/internal/hasher"
	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/store"
)

// BenchmarkTracedNoop measures what the span wrapper of every route costs
// with no-op providers, beside the same handler unwrapped.
func BenchmarkTracedNoop(b *testing.B) {
	h, err := hasher.New(hasher.Params{Memory: 64, Time: 1, Threads: 1}, 1, 1)
	if err != nil {
		b.Fatal(err)
	}
	tel, err := newTelemetry(tracenoop.NewTracerProvider(), metricnoop.NewMeterProvider(), h, nil, nil, nil)
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

// TestTimedStoreCoversStore: every Store method has its own timed
// operation, so a method added to Store without one fails here.
func TestTimedStoreCoversStore(t *testing.T) {
	st := reflect.TypeFor[store.Store]()
	if st.NumMethod() != int(storeOps) {
		t.Fatalf("Store has %d methods, the timing wrapper names %d", st.NumMethod(), storeOps)
	}
	for i := range st.NumMethod() {
		name := st.Method(i).Name
		if !slices.Contains(storeOpNames[:], name) {
			t.Errorf("Store.%s is not timed", name)
		}
	}
}

// BenchmarkBearerStoreTiming measures RequireBearer with the Store calls
// timed (as New makes it for a provider that records) and, as the
// baseline of the same run, untimed (as New makes it for a noop one).
func BenchmarkBearerStoreTiming(b *testing.B) {
	ctx := b.Context()
	st := memstore.New()
	now := time.Now()
	if err := st.CreateTenant(ctx, store.Tenant{ID: "t", Domain: "t.test"}); err != nil {
		b.Fatal(err)
	}
	if err := st.CreateUser(ctx, store.User{ID: "u", TenantID: "t", Username: "u", Role: RoleStandardUser}); err != nil {
		b.Fatal(err)
	}
	tok := newToken()
	if _, err := st.CreateFamily(ctx, store.Family{ID: "f", UserID: "u", Method: "password", CreatedAt: now, ExpiresAt: now.Add(time.Hour), LastUsedAt: now}, 0,
		store.Token{Hash: store.HashToken(tok), Kind: store.AccessToken, FamilyID: "f", ExpiresAt: now.Add(time.Hour)}); err != nil {
		b.Fatal(err)
	}
	a, err := New(Config{Store: st, TracerProvider: tracenoop.NewTracerProvider(), MeterProvider: metricnoop.NewMeterProvider()})
	if err != nil {
		b.Fatal(err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	r := httptest.NewRequest(http.MethodGet, "/x", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	// With the noop provider New calls the Store untimed (metricsIdle);
	// "timed" forces the wrapper as a provider that records gets it.
	idle := a.tel.unmetered
	for _, c := range []struct {
		name      string
		unmetered func() bool
	}{{"store=untimed", idle}, {"store=timed", nil}} {
		b.Run(c.name, func(b *testing.B) {
			a.tel.unmetered = c.unmetered
			h := a.RequireBearer(ok)
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, r)
			}
		})
	}
}
