package main

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/pbxauth/pbxauth/internal/apitest"
)

// scrape reads http://addr/metrics as a scraper asking for accept would,
// parsed as Prometheus text.
func scrape(t *testing.T, addr, accept string) map[string]*dto.MetricFamily {
	t.Helper()
	req, err := http.NewRequest("GET", "http://"+addr+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics is not Prometheus text: %v", err)
	}
	return families
}

// labels are the labels of m as a map.
func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

// counterValues are the values of the counter family name, by its labels
// (name=value, sorted, comma-separated).
func counterValues(families map[string]*dto.MetricFamily, name string) map[string]float64 {
	out := map[string]float64{}
	for _, m := range families[name].GetMetric() {
		var ls []string
		for k, v := range labels(m) {
			ls = append(ls, k+"="+v)
		}
		slices.Sort(ls)
		out[strings.Join(ls, ",")] = m.GetCounter().GetValue()
	}
	return out
}

// TestExampleMetricsScrape reads the example's /metrics as Prometheus
// would: before any request every pbxauth counter is there at 0, beside the
// Go runtime and process metrics and target_info naming the service; after
// sign-ins the duration histograms have seconds buckets below 1 ms; no
// series carries otel_scope_* labels, and the series stay few.
func TestExampleMetricsScrape(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	c := apitest.NewClient(t, startExample(t, map[string]string{"PBXAUTH_ADMIN_PASSWORD": "admin-pw-12345"}, "-metrics-addr", addr))

	before := scrape(t, addr, "")
	for name, want := range map[string]map[string]float64{
		"pbxauth_sign_ins_total": {
			"pbxauth_method=password,pbxauth_outcome=success": 0, "pbxauth_method=password,pbxauth_outcome=failure": 0,
			"pbxauth_method=microsoft,pbxauth_outcome=success": 0, "pbxauth_method=microsoft,pbxauth_outcome=failure": 0,
			// Passkeys are on: the default public URL names localhost.
			"pbxauth_method=passkey,pbxauth_outcome=success": 0, "pbxauth_method=passkey,pbxauth_outcome=failure": 0,
		},
		"pbxauth_second_factor_checks_total": {"pbxauth_outcome=success": 0, "pbxauth_outcome=failure": 0},
		"pbxauth_refreshes_total":            {"pbxauth_outcome=success": 0, "pbxauth_outcome=reuse": 0},
		"pbxauth_lockouts_total":             {"": 0},
		"pbxauth_mails_total": { // the example without -smtp writes mails to its log
			"pbxauth_mail=second_factor,pbxauth_outcome=logged": 0, "pbxauth_mail=second_factor,pbxauth_outcome=failed": 0,
			"pbxauth_mail=password_reset,pbxauth_outcome=logged": 0, "pbxauth_mail=password_reset,pbxauth_outcome=requested": 0,
			"pbxauth_mail=password_reset,pbxauth_outcome=failed": 0, "pbxauth_mail=password_reset,pbxauth_outcome=misconfigured": 0,
		},
	} {
		if got := counterValues(before, name); !maps.Equal(got, want) {
			t.Errorf("%s before any request: %v, want %v", name, got, want)
		}
	}
	for _, name := range []string{
		"go_goroutines", "go_threads", "go_gc_duration_seconds", "go_memstats_heap_alloc_bytes", "go_info",
		"process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds", "process_start_time_seconds",
	} {
		if before[name] == nil {
			t.Errorf("no %s", name)
		}
	}
	if ti := before["target_info"].GetMetric(); len(ti) != 1 || labels(ti[0])["service_name"] != "pbxauth" {
		t.Errorf("target_info %v, want one series with service_name pbxauth", ti)
	}

	if r := c.Do("POST", "/auth/sign_in", map[string]string{"username": "admin", "password": "admin-pw-12345"}); r.Status != 200 {
		t.Fatalf("sign_in: %d %s", r.Status, r.Body)
	}
	if r := c.Do("POST", "/auth/sign_in", map[string]string{"username": "admin", "password": "wrong-pw-12345"}); r.Status != 401 {
		t.Fatalf("wrong sign_in: %d", r.Status)
	}
	// Prometheus 3 asks for UTF-8 names; the names stay the same.
	for _, accept := range []string{"", "text/plain;version=1.0.0;escaping=allow-utf-8"} {
		after := scrape(t, addr, accept)
		got := counterValues(after, "pbxauth_sign_ins_total")
		if got["pbxauth_method=password,pbxauth_outcome=success"] != 1 || got["pbxauth_method=password,pbxauth_outcome=failure"] != 1 {
			t.Errorf("Accept %q: sign-ins %v, want one password success and one failure (families %v)", accept, got, slices.Sorted(maps.Keys(after)))
		}
		checkSecondsBuckets(t, after, "pbxauth_hash_wait_seconds", "pbxauth_store_duration_seconds")
		series, scoped := 0, map[string]bool{}
		for name, f := range after {
			if strings.HasPrefix(name, "otel_scope_") {
				scoped[name] = true
			}
			for _, m := range f.GetMetric() {
				series++
				if h, q := m.GetHistogram(), m.GetSummary(); h != nil || q != nil { // buckets or quantiles, sum and count
					series += 1 + len(h.GetBucket()) + len(q.GetQuantile())
				}
				for l := range labels(m) {
					if strings.HasPrefix(l, "otel_scope_") {
						scoped[name+"{"+l+"}"] = true
					}
				}
			}
		}
		if len(scoped) > 0 {
			t.Errorf("Accept %q: otel_scope_* families or labels: %v", accept, slices.Sorted(maps.Keys(scoped)))
		}
		if series > 400 {
			t.Errorf("%d series after two sign-ins, want at most 400", series)
		}
	}
}

// checkSecondsBuckets checks that every series of the histograms names has
// the buckets of a duration in seconds, 100 µs to 10 s.
func checkSecondsBuckets(t *testing.T, families map[string]*dto.MetricFamily, names ...string) {
	t.Helper()
	want := "0.0001 0.00025 0.0005 0.001 0.0025 0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 5 10 +Inf"
	for _, name := range names {
		ms := families[name].GetMetric()
		if len(ms) == 0 {
			t.Errorf("no %s", name)
		}
		for _, m := range ms {
			var got []string
			for _, b := range m.GetHistogram().GetBucket() {
				got = append(got, strconv.FormatFloat(b.GetUpperBound(), 'g', -1, 64))
			}
			if s := strings.Join(got, " "); s != want {
				t.Errorf("%s %v buckets %s, want %s", name, labels(m), s, want)
				break
			}
		}
	}
}
