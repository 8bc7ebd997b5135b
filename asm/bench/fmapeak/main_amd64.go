//go:build gc && !noasm && !purego

package main

import (
	"fmt"
	"runtime"
	"time"

	"github.com/klauspost/cpuid/v2"
)

// addChain runs iters × 1000 dependent ADDQ instructions (1 cycle each).
//
//go:noescape
func addChain(iters int) int

// fmaBlock runs iters × 120 vfmadd231ps ymm over 12 independent
// accumulators (iters × 120 × 16 float32 flops).
//
//go:noescape
func fmaBlock(iters int)

// fmaBlock512 is fmaBlock on zmm registers (iters × 120 × 32 flops).
//
//go:noescape
func fmaBlock512(iters int)

func best(f func()) time.Duration {
	b := time.Duration(1 << 62)
	for i := 0; i < 7; i++ {
		t0 := time.Now()
		f()
		if d := time.Since(t0); d < b {
			b = d
		}
	}
	return b
}

func main() {
	runtime.LockOSThread()
	fmt.Printf("CPU: %s (cpuid: family %d model %d, AVX2=%v FMA3=%v)\n", cpuid.CPU.BrandName, cpuid.CPU.Family, cpuid.CPU.Model,
		cpuid.CPU.Supports(cpuid.AVX2), cpuid.CPU.Supports(cpuid.FMA3))
	if !cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3) {
		fmt.Println("no AVX2+FMA3: nothing to measure")
		return
	}
	const iters = 1 << 18
	d := best(func() { addChain(iters) })
	ghz := float64(iters) * 1000 / d.Seconds() / 1e9
	fmt.Printf("dependent-add chain: %.3f GHz effective clock\n", ghz)
	d = best(func() { fmaBlock(iters) })
	gf := float64(iters) * 120 * 16 / d.Seconds() / 1e9
	fmt.Printf("ymm FMA throughput: %.2f GFLOP/s = %.2f FMA instructions per cycle at %.3f GHz\n", gf, gf/16/ghz, ghz)
	fmt.Printf("peak 2 FMA × 8 lanes × 2 flops × %.3f GHz = %.2f GFLOP/s\n", ghz, 32*ghz)
	if !cpuid.CPU.Supports(cpuid.AVX512F) {
		return
	}
	d = best(func() { fmaBlock512(iters) })
	gf = float64(iters) * 120 * 32 / d.Seconds() / 1e9
	fmt.Printf("zmm FMA throughput: %.2f GFLOP/s = %.2f FMA instructions per cycle at %.3f GHz\n", gf, gf/32/ghz, ghz)
}
