//go:build unix

// This file reads the process's CPU time for the benchmarks.

package client_test

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time the process has used, user and system, the
// server in the test and the garbage collector included: on a shared
// machine it is steadier than ns/op's wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
