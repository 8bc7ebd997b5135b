package asm

import (
	"fmt"
	"testing"
)

// BenchmarkSgemmKernel runs each micro-kernel (6×16, 6×32, 12×32, 12×16) alone on packed panels
// that stay in L1/L2 (kc = 256, 24 A panels against one B panel, as in the
// driver's inner loop): the ceiling the driver can approach.
func BenchmarkSgemmKernel(b *testing.B) {
	const kc, panels = kcBlock, mcBlock / mr
	a := make([]float32, kc*mr*panels)
	bp := make([]float32, kc*maxNR)
	c := make([]float32, mr*maxNR*panels)
	for i := range a {
		a[i] = 1e-3
	}
	for i := range bp {
		bp[i] = 1e-3
	}
	report := func(b *testing.B, cpu0 float64, nr int) {
		flops := float64(b.N) * panels * 2 * kc * mr * float64(nr)
		b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		if cpu := CPUSeconds() - cpu0; cpu > 0 {
			b.ReportMetric(flops/cpu/1e9, "cpu-GFLOP/s")
		}
	}
	for _, asm := range paths(b) {
		nr := tileNR(asm)
		b.Run("impl="+pathName(asm), func(b *testing.B) {
			cpu0 := CPUSeconds()
			for b.Loop() {
				for t := 0; t < panels; t++ {
					sgemmKernel(asm, kc, a[t*kc*mr:], bp, c[t*mr*nr:], nr, 0)
				}
			}
			report(b, cpu0, nr)
		})
		if asm == AVX512 {
			for _, w := range []int{nr512, tileNR(AVX2)} {
				b.Run(fmt.Sprintf("impl=avx512-12x%d", w), func(b *testing.B) {
					cpu0 := CPUSeconds()
					for b.Loop() {
						for t := 0; t < panels; t += 2 {
							sgemmKernel12(w, kc, a[t*kc*mr:], bp, c[t*mr*w:], w, 0)
						}
					}
					report(b, cpu0, w)
				})
			}
		}
	}
}
