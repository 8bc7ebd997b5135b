package asm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// withPath forces Sgemm's path (nopackAuto: the shape rule) until undo.
func withPath(p nopackPath) (undo func()) {
	prev := nopackForce
	nopackForce = p
	return func() { nopackForce = prev }
}

// TestDotKernel checks both NT tiles (4×6, 6×4) on every level against the
// float64 reference: every kc through the sixteen-float trips and the
// masked tail, long k, alpha and every beta, rows at odd strides and
// misaligned starts with NaN after each row's kb floats (which must not be
// read), NaN guards around C and NaN in its gaps (ldc > nj).
func TestDotKernel(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	kcs := []int{1, 2, 7, 15, 16, 17, 31, 32, 33, 47, 100, 255, 256, 257, 1024, 1031}
	combo := 0
	for _, l := range paths(t) {
		if l == AVX2 {
			continue // no AVX2 form: the twin runs there
		}
		for _, tile := range [][2]int{{4, 6}, {6, 4}} {
			mi, nj := tile[0], tile[1]
			for _, kc := range kcs {
				for _, beta := range scalars {
					combo++
					alpha := []float32{1, 0.7}[combo%2]
					ld := kc + combo%5
					a := randMat(rng, mi, kc, ld, combo%8)
					b := randMat(rng, nj, kc, ld+1, (combo+3)%8)
					// NaN past the kb floats of the last rows too.
					a = append(a[:len(a):len(a)], float32(math.NaN()))[:len(a)]
					ra, rb := make([][]float32, mi), make([][]float32, nj)
					for i := range ra {
						ra[i] = a[i*ld : i*ld+kc]
					}
					for j := range rb {
						rb[j] = b[j*(ld+1) : j*(ld+1)+kc]
					}
					ldc := nj + combo%3
					buf, c := guarded32((mi-1)*ldc+nj, combo%8)
					for i := range c {
						c[i] = float32(math.NaN())
						if beta != 0 && i%ldc < nj {
							c[i] = float32(rng.Float64()*2 - 1)
						}
					}
					c0 := append([]float32(nil), c...)
					dotKernel(l, kc, ra, rb, c, ldc, alpha, beta, a)
					for i := range mi {
						for j := 0; j < ldc && i*ldc+j < len(c); j++ {
							got := c[i*ldc+j]
							if j >= nj {
								if !math.IsNaN(float64(got)) {
									t.Fatalf("%s %dx%d kc=%d: gap (%d,%d) written", l, mi, nj, kc, i, j)
								}
								continue
							}
							var s, abs float64
							for p := range kc {
								v := float64(ra[i][p]) * float64(rb[j][p])
								s += v
								abs += math.Abs(v)
							}
							want := float64(alpha) * s
							tol := float64(kc+3) * u32 * abs
							if beta != 0 {
								bc := float64(beta) * float64(c0[i*ldc+j])
								want += bc
								tol += 2 * u32 * (math.Abs(bc) + math.Abs(want))
							}
							if !(math.Abs(float64(got)-want) <= tol) {
								t.Fatalf("%s %dx%d kc=%d alpha=%v beta=%v: (%d,%d) = %v want %v (tol %g)", l, mi, nj, kc, alpha, beta, i, j, got, want, tol)
							}
						}
					}
					checkGuard32(t, buf, combo%8, len(c))
				}
			}
		}
	}
}

// TestSgemmNoPack runs Sgemm with each path that does not pack forced on,
// on every level where it applies, over shapes through every tile edge
// (m mod 4, 6, 12; n mod 4, 6, 32), k through the mask tail and several k
// blocks (dotKC, kcBlock), alpha ≠ 1, every beta, paddings and misaligned
// starts, against the float64 reference with NaN guards; the ldb path
// must also give the packed path's bits exactly.
func TestSgemmNoPack(t *testing.T) {
	rng := rand.New(rand.NewPCG(45, 46))
	shapes := [][3]int{ // m, n, k
		{1, 2, 1}, {4, 6, 16}, {5, 7, 17}, {13, 33, 31}, {32, 64, 300}, {37, 70, 257},
		{12, 100, 1}, {2, 35, 2049}, {64, 128, 1040}, {130, 23, 520}, {7, 96, 3},
	}
	if testing.Short() {
		shapes = shapes[:9]
	}
	combo := 0
	for _, l := range paths(t) {
		onPath(l, func() {
			for _, p := range []nopackPath{nopackDot, nopackLdb} {
				if p == nopackLdb && l != AVX512 {
					continue
				}
				for _, sh := range shapes {
					for _, alpha := range []float32{1, -0.7} {
						for _, beta := range scalars {
							combo++
							gc := gemmCase{transB: p == nopackDot, m: sh[0], n: sh[1], k: sh[2],
								alpha: alpha, beta: beta, padA: combo % 3, padB: (combo / 3) % 3, padC: combo % 2, off: combo % 8}
							o := makeGemm(rng, gc)
							undo := withPath(p)
							if got := chosen(packed, l, gc.transA, gc.transB); got != p {
								t.Fatalf("%s: forcing %d chose %d", l, p, got)
							}
							runGemm(gc, o)
							undo()
							checkGemm(t, l.String()+" no-pack", gc, o)
							if p == nopackLdb {
								againBits(t, l.String()+" packed instead of ldb", gc, o, func() func() { return withPath(packed) })
							}
						}
					}
				}
			}
		})
	}
}

// TestSgemmNoPackThreadsAgree: the dot path's result does not depend on the
// number of goroutines (splits in whole dotUnit), for row and column
// splits and a beta that would show a fused against an unfused update.
func TestSgemmNoPackThreadsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(47, 48))
	for _, l := range paths(t) {
		onPath(l, func() {
			defer withPath(nopackDot)()
			for _, s := range [][3]int{{400, 130, 101}, {14, 2000, 220}, {130, 500, 1100}} {
				gc := gemmCase{m: s[0], n: s[1], k: s[2], alpha: 1, beta: -0.5, transB: true}
				o := makeGemm(rng, gc)
				ref := append([]float32(nil), o.c...)
				r := SetMaxThreads(1)
				Sgemm(false, true, gc.m, gc.n, gc.k, 1, o.a, o.lda, o.b, o.ldb, gc.beta, ref, o.ldc)
				r()
				for _, th := range []int{2, 3, 5} {
					c := append([]float32(nil), o.c...)
					r := SetMaxThreads(th)
					Sgemm(false, true, gc.m, gc.n, gc.k, 1, o.a, o.lda, o.b, o.ldb, gc.beta, c, o.ldc)
					r()
					for i := range c {
						if math.Float32bits(c[i]) != math.Float32bits(ref[i]) {
							t.Fatalf("%s %v threads=%d: element %d %v != single-thread %v", l, s, th, i, c[i], ref[i])
						}
					}
				}
			}
		})
	}
}

// TestNoPackRule pins the shape rule: which engine products take which
// path on the AVX-512 level, and that no other level or transpose takes
// either (the choice depends on the shape and level only).
func TestNoPackRule(t *testing.T) {
	cases := []struct {
		transA, transB bool
		m, n, k        int
		want           nopackPath
	}{
		{false, true, 32, 1024, 1024, nopackDot}, // training forward, batch 32
		{false, true, 4096, 128, 16384, packed},  // dense SRP
		{false, true, 256, 128, 1024, packed},    // rehash projections of the batch
		{false, true, 128, 1024, 1024, packed},   // rehash projections of the weights
		{false, true, 64, 4096, 256, nopackDot},  // the rule's corner
		{false, true, 65, 4096, 256, packed},
		{false, false, 64, 32, 16, nopackLdb},
		{false, false, 65, 1024, 1024, packed},
		{false, true, 256, 1024, 1024, packed},    // rehash forward, batch 256
		{false, true, 1024, 1024, 1024, packed},   // square
		{false, false, 32, 1024, 1024, nopackLdb}, // training dX, batch 32
		{false, false, 1024, 1024, 1024, packed},  // square
		{true, false, 1024, 1024, 32, packed},     // training dW
		{false, true, 32, 1024, 32, packed},       // short k
	}
	for _, c := range cases {
		if got := nopackFor(AVX512, c.transA, c.transB, c.m, c.n, c.k); got != c.want {
			t.Errorf("avx512 %+v: path %d, want %d", c, got, c.want)
		}
		for _, l := range []ISA{Go, AVX2} {
			if got := nopackFor(l, c.transA, c.transB, c.m, c.n, c.k); got != packed {
				t.Errorf("%s %+v: path %d, want packed", l, c, got)
			}
		}
	}
}
