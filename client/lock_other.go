//go:build !unix && !windows

// This file stands in for the OS lock where there is none (js, wasip1,
// plan9): one process only.

package client

import "os"

func tryLock(*os.File) (bool, error) { return true, nil }

func unlockFile(*os.File) {}

func syncDir(string) {}
