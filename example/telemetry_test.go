package main

import (
	"net"
	"net/http"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/pbxauth/pbxauth/internal/apitest"
)

// TestExampleMetrics scrapes /metrics after a sign-in and a failed one and
// reads it as Prometheus text.
func TestExampleMetrics(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := apitest.NewClient(t, startExample(t, map[string]string{"PBXAUTH_ADMIN_PASSWORD": "admin-pw-12345"}, "-metrics-addr", addr))
	if r := c.Do("POST", "/auth/sign_in", map[string]string{"username": "admin", "password": "admin-pw-12345"}); r.Status != 200 {
		t.Fatalf("sign_in: %d %s", r.Status, r.Body)
	}
	if r := c.Do("POST", "/auth/sign_in", map[string]string{"username": "admin", "password": "wrong-pw-12345"}); r.Status != 401 {
		t.Fatalf("wrong sign_in: %d", r.Status)
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics is not Prometheus text: %v", err)
	}
	outcomes := map[string]float64{}
	for _, m := range families["pbxauth_sign_ins_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "pbxauth_outcome" {
				outcomes[l.GetValue()] += m.GetCounter().GetValue()
			}
		}
	}
	if outcomes["success"] != 1 || outcomes["failure"] != 1 {
		names := []string{}
		for n := range families {
			names = append(names, n)
		}
		t.Errorf("sign-ins by outcome %v, want one of each (families %v)", outcomes, names)
	}
	if _, ok := families["pbxauth_hash_wait_seconds"]; !ok {
		t.Error("no pbxauth_hash_wait_seconds")
	}
}
