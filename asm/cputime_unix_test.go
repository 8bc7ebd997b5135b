//go:build unix

package asm

import "syscall"

// CPUSeconds is the user+system CPU time of this process so far: on the
// shared, loaded development machines it does not count the time spent
// waiting for a CPU, which wall-clock time does.
func CPUSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
