// This file holds what the parts measure and how it is summed up:
// latencies, statuses, CPU time and the machine they ran on.

package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// sample is one run of requests against one target.
type sample struct {
	lat      []time.Duration // per request
	statuses map[int]int     // status → count; 0 counts transport errors
	elapsed  time.Duration
	cpu      time.Duration // of this whole process (client and, if in-process, server)
}

func (s *sample) perSecond() float64 { return float64(len(s.lat)) / s.elapsed.Seconds() }

// cpuPerRequest is the process's CPU time per request.
func (s *sample) cpuPerRequest() time.Duration { return s.cpu / time.Duration(len(s.lat)) }

// latencies pools the latencies of samples, sorted.
func latencies(samples ...*sample) []time.Duration {
	var all []time.Duration
	for _, s := range samples {
		all = append(all, s.lat...)
	}
	slices.Sort(all)
	return all
}

// percentile returns the p-th percentile (nearest rank) of sorted.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// median returns the middle value of xs.
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// statusText lists counts by status, "401×12, 503×988"; status 0 is
// written "error".
func statusText(m map[int]int) string {
	var keys []int
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	var parts []string
	for _, k := range keys {
		name := strconv.Itoa(k)
		if k == 0 {
			name = "error"
		}
		parts = append(parts, fmt.Sprintf("%s×%d", name, m[k]))
	}
	return strings.Join(parts, ", ")
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// machine describes where the figures were measured.
type machine struct {
	cpu        string
	cores      int
	gomaxprocs int
	memory     string
	goVersion  string
}

func describeMachine() machine {
	m := machine{cpu: "unknown", cores: runtime.NumCPU(), gomaxprocs: runtime.GOMAXPROCS(0), memory: "unknown", goVersion: runtime.Version()}
	if v, ok := procField("/proc/cpuinfo", "model name"); ok {
		m.cpu = v
	}
	if v, ok := procField("/proc/meminfo", "MemTotal"); ok {
		if kb, err := strconv.ParseInt(strings.TrimSuffix(v, " kB"), 10, 64); err == nil {
			m.memory = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
		}
	}
	return m
}

// procField returns the value of the first "name: value" line of a /proc file.
func procField(path, name string) (string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// vmHWM returns the peak resident set size of process pid, in bytes.
func vmHWM(pid int) (int64, error) {
	v, ok := procField(fmt.Sprintf("/proc/%d/status", pid), "VmHWM")
	if !ok {
		return 0, fmt.Errorf("no VmHWM for process %d", pid)
	}
	kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(v, "kB")), 10, 64)
	return kb << 10, err
}
