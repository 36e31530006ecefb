// Which Store pbxauth calls: timed only while a meter provider can record.

package pbxauth

import (
	"reflect"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/pbxauth/pbxauth/memstore"
)

func TestStoreTimedOnlyWhileMetricsRecord(t *testing.T) {
	cases := []struct {
		name  string
		mp    metric.MeterProvider
		timed bool
	}{
		{"noop", metricnoop.NewMeterProvider(), false},
		{"noop value", metricnoop.MeterProvider{}, false},
		{"sdk", sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader())), true},
	}
	// The global placeholder, while no test has replaced it
	// (TestTelemetryGlobalMeterProvider does, once for the binary).
	if rt := reflect.TypeOf(otel.GetMeterProvider()).Elem(); rt.PkgPath() == globalPackage && rt.Name() == "meterProvider" {
		cases = append(cases, struct {
			name  string
			mp    metric.MeterProvider
			timed bool
		}{"global placeholder", nil, false})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := memstore.New()
			a, err := New(Config{Store: st, MeterProvider: c.mp})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { a.Close() })
			var want any = st
			if c.timed {
				want = a.timed
			}
			if got := a.store(); got != want {
				t.Errorf("a.store() is %T, want %T", got, want)
			}
		})
	}
}
