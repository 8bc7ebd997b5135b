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

// BenchmarkDotKernel runs the NT tiles of the dot path alone, through the
// driver's wrapper (dotKernel), kb = dotKC, with the streamed operand's
// rows in L2 (as in the driver): the 4×6 tile against 8 four-row tiles of
// A (the batch-32 forward), the 6×4 tile against 32 four-row tiles of B
// (SRP's 128 projections).
func BenchmarkDotKernel(b *testing.B) {
	if ok, _ := SupportedISA(AVX512); !ok {
		b.Skip("no AVX-512")
	}
	const kb, rows = dotKC, 128
	x := make([]float32, rows*kb)
	for i := range x {
		x[i] = 1e-3
	}
	c := make([]float32, rows*rows)
	for _, tile := range [][2]int{{4, 6}, {6, 4}} {
		mi, nj := tile[0], tile[1]
		b.Run(fmt.Sprintf("%dx%d", mi, nj), func(b *testing.B) {
			res := make([][]float32, max(mi, nj))
			for r := range res {
				res[r] = x[r*kb : r*kb+kb]
			}
			str := make([][]float32, min(mi, nj))
			cpu0 := CPUSeconds()
			for b.Loop() {
				for t := 0; t+len(str) <= rows; t += len(str) {
					for r := range str {
						str[r] = x[(t+r)*kb : (t+r)*kb+kb]
					}
					if mi == 4 {
						dotKernel(AVX512, kb, str, res[:nj], c[t*rows:], rows, 1, 0, x)
					} else {
						dotKernel(AVX512, kb, res[:mi], str, c[t:], rows, 1, 0, x)
					}
				}
			}
			flops := float64(b.N) * float64(rows/len(str)) * 2 * kb * float64(mi*nj)
			b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			if cpu := CPUSeconds() - cpu0; cpu > 0 {
				b.ReportMetric(flops/cpu/1e9, "cpu-GFLOP/s")
			}
		})
	}
}
