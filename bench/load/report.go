// This file prints the results: a readable report as each part finishes, and
// on request the same figures as Markdown tables for BENCHMARKS.md.

package main

import (
	"fmt"
	"io"
	"time"
)

// report gathers everything one run measured.
type report struct {
	machine    machine
	throughput *throughputResult
	bursts     []*burstResult
	devices    []*deviceResult
	floods     []*floodResult
	logCost    *logCostResult
}

func (r *report) printMachine(w io.Writer) {
	m := r.machine
	fmt.Fprintf(w, "machine: %s, %d cores (GOMAXPROCS %d), %s memory; %s\n\n", m.cpu, m.cores, m.gomaxprocs, m.memory, m.goVersion)
}

// throughput summary of one target over all rounds.
type summary struct {
	name          string
	rates         []float64 // requests/s per round
	rate          float64   // median of rates
	p50, p99, max time.Duration
	cpu           time.Duration // median CPU per request
	statuses      map[int]int
}

func summarize(name string, samples []*sample) summary {
	s := summary{name: name, statuses: map[int]int{}}
	var cpus []float64
	for _, x := range samples {
		s.rates = append(s.rates, x.perSecond())
		cpus = append(cpus, float64(x.cpuPerRequest()))
		for k, v := range x.statuses {
			s.statuses[k] += v
		}
	}
	lat := latencies(samples...)
	s.rate, s.cpu = median(s.rates), time.Duration(median(cpus))
	s.p50, s.p99, s.max = percentile(lat, 50), percentile(lat, 99), lat[len(lat)-1]
	return s
}

// ratio is the median over rounds of pbxauth's rate over the bare handler's.
func (t *throughputResult) ratio() float64 {
	var rs []float64
	for i := range t.bare {
		rs = append(rs, t.auth[i].perSecond()/t.bare[i].perSecond())
	}
	return median(rs)
}

func (t *throughputResult) summaries() (bare, auth summary) {
	return summarize("bare handler", t.bare), summarize("pbxauth, memory store", t.auth)
}

func (t *throughputResult) print(w io.Writer) {
	bare, auth := t.summaries()
	fmt.Fprintf(w, "Throughput: GET /auth/user over %d connections, %d requests per target in each of %d rounds\n", t.conns, t.requests, len(t.bare))
	fmt.Fprintf(w, "(client and server share this process; CPU/req is the whole process's)\n")
	for _, s := range []summary{bare, auth} {
		fmt.Fprintf(w, "  %-22s %8.0f req/s  p50 %-9s p99 %-9s max %-9s CPU/req %-9s [%s]  rounds: %s\n",
			s.name, s.rate, ms(s.p50), ms(s.p99), ms(s.max), us(s.cpu), statusText(s.statuses), rates(s.rates))
	}
	r := t.ratio()
	fmt.Fprintf(w, "  pbxauth / bare: %.0f%% of the throughput (goal ≥ 70%%: %s), p99 ×%.2f, CPU/req ×%.2f\n\n",
		100*r, verdict(r >= 0.7), float64(auth.p99)/float64(bare.p99), float64(auth.cpu)/float64(bare.cpu))
}

func (b *burstResult) onlyExpected() bool {
	for k := range b.statuses {
		if k != 401 && k != 429 && k != 503 {
			return false
		}
	}
	return true
}

func (b *burstResult) bearerServed() bool {
	return len(b.during.lat) > 0 && b.during.statuses[200] == len(b.during.lat)
}

func (b *burstResult) print(w io.Writer) {
	sc := b.scenario
	fmt.Fprintf(w, "Burst (%s): %d sign-ins with wrong passwords, %d at a time, from %d loopback address(es), in %s\n",
		sc.name, sc.requests, sc.concurrency, sc.addrs, b.elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "  statuses: %s (goal only 401/429/503: %s)\n", statusText(b.statuses), verdict(b.onlyExpected()))
	fmt.Fprintf(w, "  server peak RSS: %s before the burst, %s after (goal ≤ %s: %s)\n",
		mib(b.hwmBefore), mib(b.hwmAfter), mib(b.limit), verdict(b.hwmAfter <= b.limit))
	idle, during := latencies(b.idle), latencies(b.during)
	fmt.Fprintf(w, "  GET /auth/user, one at a time: at rest p50 %s p99 %s; during the burst p50 %s p99 %s max %s over %d requests [%s] (goal served: %s)\n\n",
		ms(percentile(idle, 50)), ms(percentile(idle, 99)), ms(percentile(during, 50)), ms(percentile(during, 99)),
		ms(percentile(during, 100)), len(during), statusText(b.during.statuses), verdict(b.bearerServed()))
}

func (r *report) printMarkdown(w io.Writer) {
	m := r.machine
	fmt.Fprintf(w, "### Load tool\n\n%s, %d cores (GOMAXPROCS %d), %s, %s.\n\n", m.cpu, m.cores, m.gomaxprocs, m.memory, m.goVersion)
	if t := r.throughput; t != nil {
		bare, auth := t.summaries()
		fmt.Fprintf(w, "Throughput, GET /auth/user, %d connections, %d requests × %d rounds per target:\n\n", t.conns, t.requests, len(t.bare))
		fmt.Fprintln(w, "| target | req/s (median) | p50 | p99 | CPU/req | rounds (req/s) |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---|")
		for _, s := range []summary{bare, auth} {
			fmt.Fprintf(w, "| %s | %.0f | %s | %s | %s | %s |\n", s.name, s.rate, ms(s.p50), ms(s.p99), us(s.cpu), rates(s.rates))
		}
		fmt.Fprintf(w, "| **pbxauth / bare** | **%.0f%%** | | ×%.2f | ×%.2f | goal ≥ 70%%: %s |\n\n",
			100*t.ratio(), float64(auth.p99)/float64(bare.p99), float64(auth.cpu)/float64(bare.cpu), verdict(t.ratio() >= 0.7))
	}
	if len(r.bursts) > 0 {
		fmt.Fprintln(w, "Burst of wrong-password sign-ins against the example server (child process, memory store):")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| scenario | sign-ins | statuses | peak RSS before → after (goal) | GET /auth/user p99 at rest → during (n) |")
		fmt.Fprintln(w, "|---|---:|---|---|---|")
		for _, b := range r.bursts {
			idle, during := latencies(b.idle), latencies(b.during)
			fmt.Fprintf(w, "| %s | %d, %d at a time | %s | %s → %s (≤ %s: %s) | %s → %s (%d, %s) |\n",
				b.scenario.name, b.scenario.requests, b.scenario.concurrency, statusText(b.statuses),
				mib(b.hwmBefore), mib(b.hwmAfter), mib(b.limit), verdict(b.hwmAfter <= b.limit),
				ms(percentile(idle, 99)), ms(percentile(during, 99)), len(during), statusText(b.during.statuses))
		}
		fmt.Fprintln(w)
	}
	if len(r.devices) > 0 {
		fmt.Fprintf(w, "Sign-ins of one user while %d attacking addresses keep hashing saturated (example server, memory store):\n\n", r.devices[0].scenario.attackers)
		fmt.Fprintln(w, "| sign-ins | succeeded (goal with devices ≥ 90%) | statuses | p50 | p99 (goal < 2 s) | attackers' statuses |")
		fmt.Fprintln(w, "|---|---:|---|---:|---:|---|")
		for _, d := range r.devices {
			lat := latencies(d.user)
			name, goal := "without device cookies", ""
			if d.scenario.cookie {
				name = "through known devices"
				goal = ": " + verdict(d.success() >= 0.9)
			}
			fmt.Fprintf(w, "| %s, %d | %.0f%%%s | %s | %s | %s | %s |\n", name, len(d.user.lat), 100*d.success(), goal,
				statusText(d.user.statuses), ms(percentile(lat, 50)), ms(percentile(lat, 99)), statusText(d.attack))
		}
		fmt.Fprintln(w)
	}
	r.printFloodMarkdown(w)
	if r.logCost != nil {
		r.logCost.printMarkdown(w)
	}
}

// printFloodMarkdown writes the flood runs, one row per build with the
// rounds pooled.
func (r *report) printFloodMarkdown(w io.Writer) {
	if len(r.floods) == 0 {
		return
	}
	var order []string
	byBuild := map[string][]*floodResult{}
	for _, f := range r.floods {
		if byBuild[f.build] == nil {
			order = append(order, f.build)
		}
		byBuild[f.build] = append(byBuild[f.build], f)
	}
	fmt.Fprintln(w, "A user's sign-ins while one address floods refused POST /auth/forget_password (example server, SQLite):")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| build | flood sent (req/s) | flood statuses | sign-ins at rest p50 / p99 | during the flood p50 / p99 |")
	fmt.Fprintln(w, "|---|---|---|---:|---:|")
	for _, b := range order {
		var idle, during []*sample
		var sent []float64
		statuses := map[int]int{}
		for _, f := range byBuild[b] {
			idle, during, sent = append(idle, f.idle), append(during, f.during), append(sent, f.sentRate())
			for k, v := range f.flood {
				statuses[k] += v
			}
		}
		i, d := latencies(idle...), latencies(during...)
		fmt.Fprintf(w, "| %s | %s | %s | %s / %s | %s / %s |\n", b, rates(sent), statusText(statuses),
			ms(percentile(i, 50)), ms(percentile(i, 99)), ms(percentile(d, 50)), ms(percentile(d, 99)))
	}
	fmt.Fprintln(w)
}

func verdict(met bool) string {
	if met {
		return "met"
	}
	return "MISSED"
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }
func us(d time.Duration) string { return fmt.Sprintf("%.1fµs", float64(d)/float64(time.Microsecond)) }
func mib(b int64) string        { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
func rates(rs []float64) string {
	s := ""
	for i, r := range rs {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%.0f", r)
	}
	return s
}
