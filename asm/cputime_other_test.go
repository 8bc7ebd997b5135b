//go:build !unix

package asm

// CPUSeconds is 0 where getrusage is not available (the CPU-time metric
// is then left out).
func CPUSeconds() float64 { return 0 }
