package asm

import "testing"

// BenchmarkSgemmKernel runs each micro-kernel (6×16, 6×32) alone on packed panels
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
	for _, asm := range paths(b) {
		nr := tileNR(asm)
		b.Run("impl="+pathName(asm), func(b *testing.B) {
			for b.Loop() {
				for t := 0; t < panels; t++ {
					sgemmKernel(asm, kc, a[t*kc*mr:], bp, c[t*mr*nr:], nr, 0)
				}
			}
			b.ReportMetric(float64(b.N)*panels*2*kc*mr*float64(nr)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
