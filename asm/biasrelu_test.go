package asm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestSgemmBiasReLU checks the fused dense ReLU layer against its
// definition on every level: bias copied into z's rows, SgemmThreads with
// beta 1, ReLU over the rows — z and h bit for bit, through the fused
// path (k < kcBlock, m, n > 1: every tile shape, edge tiles, the 12-row
// and narrowed 16-column tiles, split over goroutines by rows and by
// columns) and the fallback (k ≥ kcBlock, m or n = 1, k = 0), with leading
// dimensions past the rows (their gaps must stay untouched), misaligned
// starts, zeros and negative zeros in the product, and NaN guards.
func TestSgemmBiasReLU(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	type shape struct{ m, n, k int }
	var shapes []shape
	for _, m := range []int{1, 2, 6, 7, 12, 13, 37, 150} {
		for _, n := range []int{1, 5, 16, 17, 32, 33, 100} {
			for _, k := range []int{0, 1, 3, 16, 255, 256, 300} {
				shapes = append(shapes, shape{m, n, k})
			}
		}
	}
	shapes = append(shapes, shape{256, 1024, 16}, shape{32, 1024, 16}, shape{300, 64, 40})
	for _, l := range paths(t) {
		for si, sh := range shapes {
			for _, threads := range []int{1, 2} {
				if threads == 2 && sh.m*sh.n*sh.k < 2*parallelMinWork && si%5 != 0 {
					continue
				}
				name := fmt.Sprintf("%s m=%d n=%d k=%d threads=%d", l, sh.m, sh.n, sh.k, threads)
				m, n, k := sh.m, sh.n, sh.k
				lda, ldb, ldz, ldh := k+si%3, k+si%2, n+si%4, n+(si+1)%3
				off := si % 8
				a := randMat(rng, m, k, lda, off)
				b := randMat(rng, n, k, ldb, (off+1)%8)
				if k > 0 {
					a[0] = 0 // a zero product for some elements: ±0 through the bias and the ReLU
				}
				bias := randMat(rng, 1, n, n, (off+2)%8)
				bias[0] = float32(math.Copysign(0, -1))
				zbuf, z := guarded32((m-1)*ldz+n, (off+3)%8)
				hbuf, h := guarded32((m-1)*ldh+n, (off+4)%8)
				wantZ, wantH := make([]float32, len(z)), make([]float32, len(h))
				copy(wantZ, z)
				copy(wantH, h)
				for i := 0; i < m; i++ {
					copy(wantZ[i*ldz:i*ldz+n], bias[:n])
				}
				l.SgemmThreads(threads, false, true, m, n, k, 1, a, lda, b, ldb, 1, wantZ, ldz)
				for i := 0; i < m; i++ {
					l.ReLU(wantZ[i*ldz:i*ldz+n], wantH[i*ldh:i*ldh+n])
				}
				l.SgemmBiasReLU(threads, m, n, k, a, lda, b, ldb, bias, z, ldz, h, ldh)
				for i := range z {
					if math.Float32bits(z[i]) != math.Float32bits(wantZ[i]) {
						t.Fatalf("%s: z[%d] = %v, want %v", name, i, z[i], wantZ[i])
					}
				}
				for i := range h {
					if math.Float32bits(h[i]) != math.Float32bits(wantH[i]) {
						t.Fatalf("%s: h[%d] = %v, want %v", name, i, h[i], wantH[i])
					}
				}
				checkGuard32(t, zbuf, (off+3)%8, len(z))
				checkGuard32(t, hbuf, (off+4)%8, len(h))
			}
		}
	}
}

// TestBiasReLUKernels checks the epilogue kernel on every level against its
// twin (bit for bit: an addition and a max): columns through full vectors
// and every tail, rows with gaps that must stay untouched, NaN, ±0 and
// ±Inf among the values.
func TestBiasReLUKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}
	for _, l := range paths(t) {
		for cols := 1; cols <= 70; cols++ {
			rows := 1 + cols%4
			ldz, ldh := cols+cols%3, cols+(cols+1)%3
			z := randMat(rng, rows, cols, ldz, cols%8)
			bias := randMat(rng, 1, cols, cols, (cols+1)%8)
			for i, v := range special {
				if i < cols {
					z[i*(cols/len(special)+1)%cols] = v
				}
			}
			zt := append([]float32(nil), z...)
			buf, h := guarded32((rows-1)*ldh+cols, (cols+2)%8)
			ht := append([]float32(nil), h...)
			biasReLU(l, rows, cols, z, ldz, bias, h, ldh)
			biasReLUGeneric(rows, cols, zt, ldz, bias, ht, ldh)
			for i := range z {
				if math.Float32bits(z[i]) != math.Float32bits(zt[i]) && !(z[i] != z[i] && zt[i] != zt[i]) {
					t.Fatalf("%s cols=%d: z[%d] = %v, twin %v", l, cols, i, z[i], zt[i])
				}
			}
			for i := range h {
				if math.Float32bits(h[i]) != math.Float32bits(ht[i]) && !(h[i] != h[i] && ht[i] != ht[i]) {
					t.Fatalf("%s cols=%d: h[%d] = %v, twin %v", l, cols, i, h[i], ht[i])
				}
			}
			checkGuard32(t, buf, (cols+2)%8, len(h))
		}
	}
}

// TestSgemmBiasReLUInPlace checks the layer with h and z the same matrix
// (nn's ForwardOutputs): the result is h of the two-matrix call, on the
// fused path (edge tiles included) and the fallback.
func TestSgemmBiasReLUInPlace(t *testing.T) {
	rng := rand.New(rand.NewPCG(45, 46))
	for _, l := range paths(t) {
		for _, sh := range [][3]int{{37, 100, 16}, {256, 1024, 16}, {7, 33, 300}, {1, 40, 16}, {32, 1, 16}} {
			m, n, k := sh[0], sh[1], sh[2]
			ld := n + 3
			a, b := randMat(rng, m, k, k, 1), randMat(rng, n, k, k, 2)
			bias := randMat(rng, 1, n, n, 3)
			z, h := make([]float32, (m-1)*ld+n), make([]float32, (m-1)*ld+n)
			l.SgemmBiasReLU(2, m, n, k, a, k, b, k, bias, z, ld, h, ld)
			zh := make([]float32, len(h))
			l.SgemmBiasReLU(2, m, n, k, a, k, b, k, bias, zh, ld, zh, ld)
			for i := range h {
				if math.Float32bits(zh[i]) != math.Float32bits(h[i]) {
					t.Fatalf("%s m=%d n=%d k=%d: in place [%d] = %v, h %v", l, m, n, k, i, zh[i], h[i])
				}
			}
		}
	}
}
