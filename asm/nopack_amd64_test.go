//go:build !noasm && !purego && gc

package asm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestLdbKernel checks the NN tiles that read B in place (1..6×32, 12×32)
// bit for bit against the packed 6×32 tile on a packed copy of the same B
// (the same FMA chain per element), and the twin against the float64
// reference, for every kc through the unrolled loop and its remainder,
// odd ldb, misaligned starts and NaN in B's gaps.
func TestLdbKernel(t *testing.T) {
	if ok, _ := SupportedISA(AVX512); !ok {
		t.Skip("no AVX-512 here: the twin is covered by TestSgemmNoPack")
	}
	rng := rand.New(rand.NewPCG(43, 44))
	for kc := 1; kc <= 41; kc++ {
		for _, rows := range []int{1, 2, 3, 4, 5, mr, 2 * mr} {
			for _, beta := range scalars {
				ldb := nr512 + kc%7
				panels := (rows + mr - 1) / mr
				a := randVec(rng, panels*mr*kc, kc%8)
				b := randMat(rng, kc, nr512, ldb, (kc+2)%8)
				packedB := make([]float32, kc*nr512)
				for p := range kc {
					copy(packedB[p*nr512:p*nr512+nr512], b[p*ldb:])
				}
				ldc := nr512 + kc%3
				buf, c := guarded32((rows-1)*ldc+nr512, kc%8)
				for i := range c {
					c[i] = float32(rng.Float64()*2 - 1)
				}
				// The packed 6×32 tile on a copy of C with whole panels.
				want := make([]float32, panels*mr*ldc)
				copy(want, c)
				ldbKernel(AVX512, rows, kc, a, b, ldb, c, ldc, beta)
				for q := 0; q < panels; q++ {
					sgemmKernel6x32AVX512(kc, &a[q*mr*kc], &packedB[0], &want[q*mr*ldc], ldc, beta)
				}
				for i := range c {
					if math.Float32bits(c[i]) != math.Float32bits(want[i]) {
						t.Fatalf("rows=%d kc=%d beta=%v: element %d = %v, packed tile %v", rows, kc, beta, i, c[i], want[i])
					}
				}
				checkGuard32(t, buf, kc%8, len(c))
			}
		}
	}
}
