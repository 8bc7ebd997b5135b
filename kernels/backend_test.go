package kernels_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/ntklsh/ntklsh/asm"
	"github.com/ntklsh/ntklsh/kernels"
)

// Every usable registered backend (always "generic", "avx2" and "avx512"
// where that assembly runs) is checked against a float64 reference and against Generic.
//
// Tolerances, u32 = 2⁻²⁴, u64 = 2⁻⁵³:
//   - Sgemm: |got − ref| ≤ (k+3)·u32·|alpha|·Σ_p|a_ip·b_pj| + 2·u32·(|beta·c| + |ref|);
//     two backends may differ by twice that.
//   - Dot, RowDots, RowSumSquares (float64 accumulation of exact products):
//     |got − ref| ≤ (n+4)·u64·Σ|x·y|.
//   - Axpy: |got − ref| ≤ 2·u32·(|alpha·x| + |y|).
//   - SignPack: exact.

const (
	u32 = 1.0 / (1 << 24)
	u64 = 1.0 / (1 << 53)
)

// usable returns every backend that can run here.
func usable(t *testing.T) []kernels.Backend {
	var bs []kernels.Backend
	for _, name := range kernels.Names() {
		b, _, err := kernels.Select(name)
		if err != nil {
			t.Logf("skipping %s: %v", name, err)
			continue
		}
		bs = append(bs, b)
	}
	if len(bs) == 0 || !slices.Contains(kernels.Names(), "generic") {
		t.Fatal("generic backend missing")
	}
	return bs
}

// TestISARegistered checks that avx2 and avx512 are registered and
// selectable exactly where asm supports them, and that automatic selection
// follows asm.Preferred (avx512 only where it pays).
func TestISARegistered(t *testing.T) {
	for _, c := range []struct {
		name string
		isa  asm.ISA
	}{{"avx2", asm.AVX2}, {"avx512", asm.AVX512}} {
		ok, why := asm.SupportedISA(c.isa)
		has := slices.Contains(kernels.Names(), c.name)
		if ok && !has {
			t.Fatalf("%s supported (%s) but not registered", c.name, why)
		}
		_, _, err := kernels.Select(c.name)
		if !ok && err == nil {
			t.Fatalf("%s selectable although not supported: %s", c.name, why)
		}
		if ok && os.Getenv(asm.NoAsmEnv) != "1" && err != nil {
			t.Fatalf("%s supported but not selectable: %v", c.name, err)
		}
	}
	if ok, _ := asm.Supported(); ok && os.Getenv(asm.NoAsmEnv) != "1" {
		pref, why := asm.Preferred()
		b, _, err := kernels.Select("auto")
		if err != nil || b.Name() != pref.String() {
			t.Fatalf("auto selection gave %v, %v; want %s (%s)", b, err, pref, why)
		}
	}
	pref, why := asm.Preferred()
	t.Logf("backends: %v; preferred %s: %s", kernels.Names(), pref, why)
}

func randMat(rng *rand.Rand, rows, cols, ld int) []float32 {
	n := 0
	if rows > 0 {
		n = (rows-1)*ld + cols
	}
	m := make([]float32, n)
	for i := range m {
		m[i] = float32(math.NaN()) // gaps must never be read
	}
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			m[i*ld+j] = float32(rng.Float64()*2 - 1)
		}
	}
	return m
}

func TestSgemmEquivalence(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	type shape struct{ m, n, k int }
	var shapes []shape
	for _, m := range []int{0, 1, 5, 6, 7, 13, 32} {
		for _, n := range []int{0, 1, 15, 16, 17, 33} {
			for _, k := range []int{0, 1, 3, 4, 9, 40} {
				shapes = append(shapes, shape{m, n, k})
			}
		}
	}
	shapes = append(shapes, shape{150, 70, 300}, shape{9, 300, 70})
	scal := []float32{0, 1, -0.5}
	for _, b := range usable(t) {
		for si, s := range shapes {
			for tr := 0; tr < 4; tr++ {
				tA, tB := tr&1 != 0, tr&2 != 0
				alpha, beta := scal[(si+tr)%3], scal[(si/3+tr)%3]
				ar, ac := s.m, s.k
				if tA {
					ar, ac = s.k, s.m
				}
				br, bc := s.k, s.n
				if tB {
					br, bc = s.n, s.k
				}
				lda, ldb, ldc := ac+1+si%2, bc+2, s.n+1
				a, bm := randMat(rng, ar, ac, lda), randMat(rng, br, bc, ldb)
				c0 := randMat(rng, s.m, s.n, ldc)
				if beta == 0 {
					for i := range c0 {
						c0[i] = float32(math.NaN())
					}
				}
				got := slices.Clone(c0)
				ref := slices.Clone(c0)
				b.Sgemm(tA, tB, s.m, s.n, s.k, alpha, a, lda, bm, ldb, beta, got, ldc)
				kernels.Generic.Sgemm(tA, tB, s.m, s.n, s.k, alpha, a, lda, bm, ldb, beta, ref, ldc)
				label := fmt.Sprintf("%s tA=%v tB=%v %v alpha=%v beta=%v", b.Name(), tA, tB, s, alpha, beta)
				for i := 0; i < s.m; i++ {
					for j := 0; j < s.n; j++ {
						var sum, abs float64
						for p := 0; p < s.k; p++ {
							var av, bv float32
							if tA {
								av = a[p*lda+i]
							} else {
								av = a[i*lda+p]
							}
							if tB {
								bv = bm[j*ldb+p]
							} else {
								bv = bm[p*ldb+j]
							}
							v := float64(av) * float64(bv)
							sum += v
							abs += math.Abs(v)
						}
						want := float64(alpha) * sum
						tol := float64(s.k+3)*u32*math.Abs(float64(alpha))*abs + 1e-30
						if beta != 0 {
							bc := float64(beta) * float64(c0[i*ldc+j])
							want += bc
							tol += 2 * u32 * (math.Abs(bc) + math.Abs(want))
						}
						g := float64(got[i*ldc+j])
						if !(math.Abs(g-want) <= tol) {
							t.Fatalf("%s: C[%d,%d]=%v want %v", label, i, j, g, want)
						}
						if d := math.Abs(g - float64(ref[i*ldc+j])); !(d <= 2*tol) {
							t.Fatalf("%s: C[%d,%d]=%v but Generic gives %v", label, i, j, g, ref[i*ldc+j])
						}
					}
					for j := s.n; j < ldc && i < s.m-1; j++ {
						if !math.IsNaN(float64(got[i*ldc+j])) {
							t.Fatalf("%s: gap C[%d,%d] written", label, i, j)
						}
					}
				}
			}
		}
	}
}

func TestVectorEquivalence(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for _, b := range usable(t) {
		for n := 0; n <= 70; n++ {
			x := randMat(rng, 1, n, n)
			y := randMat(rng, 1, n, n)
			var want, abs float64
			for i := range x {
				v := float64(x[i]) * float64(y[i])
				want += v
				abs += math.Abs(v)
			}
			tol := float64(n+4) * u64 * abs
			if got := b.Dot(x, y); math.Abs(got-want) > tol || math.Abs(got-kernels.Generic.Dot(x, y)) > 2*tol {
				t.Fatalf("%s Dot n=%d: got %v want %v", b.Name(), n, got, want)
			}
			alpha := float32(rng.Float64()*2 - 1)
			yg, yr := slices.Clone(y), slices.Clone(y)
			b.Axpy(alpha, x, yg)
			kernels.Generic.Axpy(alpha, x, yr)
			for i := range x {
				ax := float64(alpha) * float64(x[i])
				want := ax + float64(y[i])
				tol := 2 * u32 * (math.Abs(ax) + math.Abs(float64(y[i])))
				if d := math.Abs(float64(yg[i]) - want); d > tol || math.Abs(float64(yg[i]-yr[i])) > 2*tol {
					t.Fatalf("%s Axpy n=%d i=%d: got %v want %v generic %v", b.Name(), n, i, yg[i], want, yr[i])
				}
			}
		}
	}
}

func TestRowEquivalence(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, b := range usable(t) {
		for m := 0; m <= 4; m++ {
			for n := 0; n <= 70; n += 1 + n/10 {
				lda, ldb := n+1, n+3
				a, bm := randMat(rng, m, n, lda), randMat(rng, m, n, ldb)
				scale := 0.5 + rng.Float64()
				ss, dots := make([]float64, m+1), make([]float64, m+1)
				ss[m], dots[m] = -7, -7 // past m: must stay
				gss, gdots := make([]float64, m), make([]float64, m)
				b.RowSumSquares(m, n, scale, a, lda, ss)
				b.RowDots(m, n, a, lda, bm, ldb, dots)
				kernels.Generic.RowSumSquares(m, n, scale, a, lda, gss)
				kernels.Generic.RowDots(m, n, a, lda, bm, ldb, gdots)
				for i := 0; i < m; i++ {
					var s2, d, abs2, absd float64
					for j := 0; j < n; j++ {
						av, bv := float64(a[i*lda+j]), float64(bm[i*ldb+j])
						s2 += av * av
						abs2 += av * av
						d += av * bv
						absd += math.Abs(av * bv)
					}
					tol2 := float64(n+5) * u64 * abs2 * scale
					told := float64(n+4) * u64 * absd
					if math.Abs(ss[i]-scale*s2) > tol2 || math.Abs(ss[i]-gss[i]) > 2*tol2 {
						t.Fatalf("%s RowSumSquares m=%d n=%d row %d: %v want %v", b.Name(), m, n, i, ss[i], scale*s2)
					}
					if math.Abs(dots[i]-d) > told || math.Abs(dots[i]-gdots[i]) > 2*told {
						t.Fatalf("%s RowDots m=%d n=%d row %d: %v want %v", b.Name(), m, n, i, dots[i], d)
					}
				}
				if ss[m] != -7 || dots[m] != -7 {
					t.Fatalf("%s: wrote past m", b.Name())
				}
			}
		}
	}
}

func TestSignPackEquivalence(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	nan := float32(math.NaN())
	for _, b := range usable(t) {
		for k := 1; k <= 32; k++ {
			for _, l := range []int{1, 2, 5} {
				m, w := 3, k*l
				ldp := w + 2
				p := randMat(rng, m, w, ldp)
				for i := range p {
					switch rng.IntN(8) {
					case 0:
						p[i] = nan
					case 1:
						p[i] = 0
					case 2:
						p[i] = float32(math.Copysign(0, -1))
					}
				}
				got, ref := make([]uint32, m*l), make([]uint32, m*l)
				b.SignPack(m, k, l, p, ldp, got)
				kernels.Generic.SignPack(m, k, l, p, ldp, ref)
				for i := 0; i < m; i++ {
					for tt := 0; tt < l; tt++ {
						var want uint32
						for j := 0; j < k; j++ {
							if p[i*ldp+tt*k+j] > 0 {
								want |= 1 << j
							}
						}
						if got[i*l+tt] != want || ref[i*l+tt] != want {
							t.Fatalf("%s SignPack k=%d l=%d code (%d,%d): got %#x generic %#x want %#x", b.Name(), k, l, i, tt, got[i*l+tt], ref[i*l+tt], want)
						}
					}
				}
			}
		}
	}
}

// TestReLUKernels checks every backend with vector ReLU kernels against the
// reference loops (exact, NaN for NaN), and that avx2 and avx512 have them.
func TestReLUKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	specials := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), math.Float32frombits(0xffc00000),
		float32(math.Inf(1)), float32(math.Inf(-1)), math.Float32frombits(1)}
	same := func(a, b float32) bool {
		if a != a || b != b {
			return a != a && b != b
		}
		return math.Float32bits(a) == math.Float32bits(b)
	}
	tested := 0
	for _, b := range usable(t) {
		k, ok := b.(kernels.ReLUKernels)
		if !ok {
			if b.Name() == "avx2" || b.Name() == "avx512" {
				t.Errorf("%s backend lost its ReLU kernels", b.Name())
			}
			continue
		}
		tested++
		for n := 0; n <= 70; n++ {
			x := randMat(rng, 1, n, n)
			g := randMat(rng, 1, n, n)
			for i := range x {
				if rng.IntN(3) == 0 {
					x[i] = specials[rng.IntN(len(specials))]
				}
			}
			h := make([]float32, n)
			k.ReLU(x, h)
			for i, v := range x {
				if !same(h[i], max(v, 0)) {
					t.Fatalf("%s ReLU n=%d: max(%v, 0) = %v", b.Name(), n, v, h[i])
				}
			}
			g0 := slices.Clone(g)
			k.ReLUMask(x, g)
			for i, v := range x {
				want := g0[i]
				if v == 0 {
					want = 0
				}
				if math.Float32bits(g[i]) != math.Float32bits(want) {
					t.Fatalf("%s ReLUMask n=%d: h=%v g=%v -> %v", b.Name(), n, v, g0[i], g[i])
				}
			}
		}
	}
	t.Logf("%d backends with ReLU kernels tested", tested)
}

// TestSgemmShapePanics checks that every backend rejects shapes that do not
// fit the buffers (the shared check, asm.CheckSgemm), alpha = 0 included.
func TestSgemmShapePanics(t *testing.T) {
	x := make([]float32, 16)
	cases := []struct {
		name string
		f    func(b kernels.Backend)
	}{
		{"negative", func(b kernels.Backend) { b.Sgemm(false, false, -1, 2, 2, 1, x, 2, x, 2, 0, x, 2) }},
		{"lda", func(b kernels.Backend) { b.Sgemm(false, false, 2, 2, 3, 1, x, 2, x, 2, 0, x, 2) }},
		{"ldb transB", func(b kernels.Backend) { b.Sgemm(false, true, 2, 2, 3, 1, x, 3, x, 2, 0, x, 2) }},
		{"ldc k=0", func(b kernels.Backend) { b.Sgemm(false, false, 2, 3, 0, 1, x, 2, x, 3, 0, x, 2) }},
		{"short a alpha=0", func(b kernels.Backend) { b.Sgemm(false, false, 3, 2, 6, 0, x, 6, x, 2, 0, x, 2) }},
	}
	for _, b := range usable(t) {
		for _, c := range cases {
			func() {
				defer func() {
					if r := recover(); r == nil {
						t.Errorf("%s %s: no panic", b.Name(), c.name)
					}
				}()
				c.f(b)
			}()
		}
	}
}

// TestReLUNorms checks every backend with the fused ReLU norms against its
// own unfused kernels, bit for bit: Σ h² against RowSumSquares, Σ d² and
// Σ d·h against Dot and RowDots of d = ReLUMask(h, w), for widths around
// the vector lengths with dead units (h = ±0) and dead rows; and that avx2,
// avx512 and a thread-capped avx2 have them.
func TestReLUNorms(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 10))
	tested := 0
	for _, b := range usable(t) {
		for _, be := range []kernels.Backend{b, kernels.WithMaxThreads(b, 1)} {
			k, ok := be.(kernels.ReLUNorms)
			if !ok {
				if b.Name() == "avx2" || b.Name() == "avx512" || b.Name() == "generic" {
					t.Errorf("%s backend (%T) lost its fused ReLU norms", b.Name(), be)
				}
				continue
			}
			tested++
			rk := be.(kernels.ReLUKernels)
			for _, n := range []int{0, 1, 3, 15, 16, 17, 31, 33, 64, 100, 1024, 1029} {
				const m = 4
				ld := n + 3
				h := randMat(rng, m, n, ld)
				for i := range h {
					if h[i] < 0 || i/ld == 1 {
						h[i] = 0
					}
				}
				w := randMat(rng, 1, n, n)
				out := make([]float64, 3*m)
				k.MaskedRowNorms(m, n, h, ld, w, out)
				ss, dots := make([]float64, m), make([]float64, 1)
				be.RowSumSquares(m, n, 1, h, ld, ss)
				for i := 0; i < m; i++ {
					row := h[i*ld : i*ld+n]
					d := slices.Clone(w)
					rk.ReLUMask(row, d)
					be.RowDots(1, n, d, n, row, n, dots)
					want := [3]float64{ss[i], be.Dot(d, d), dots[0]}
					for s := range want {
						if math.Float64bits(out[3*i+s]) != math.Float64bits(want[s]) {
							t.Fatalf("%s MaskedRowNorms n=%d row %d sum %d: %v, unfused %v", be.Name(), n, i, s, out[3*i+s], want[s])
						}
					}
				}
			}
		}
	}
	t.Logf("%d backends with fused ReLU norms tested", tested)
}

// TestDenseReLU checks every backend with the dense ReLU layer (avx2,
// avx512, and both capped to one thread) against the three steps it stands
// for on the same backend, bit for bit: the engine's first-layer shapes
// (k = 16 input features: the fused epilogue) and deeper ones (k = 300: the
// fallback inside asm), batches of 1, 7, 32 and 256.
func TestDenseReLU(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	tested := 0
	for _, b := range usable(t) {
		for _, be := range []kernels.Backend{b, kernels.WithMaxThreads(b, 1)} {
			d, ok := be.(kernels.DenseReLU)
			if !ok {
				if b.Name() == "avx2" || b.Name() == "avx512" {
					t.Errorf("%s backend (%T) lost its dense ReLU layer", b.Name(), be)
				}
				continue
			}
			tested++
			rk := be.(kernels.ReLUKernels)
			for _, m := range []int{1, 7, 32, 256} {
				for _, sh := range [][2]int{{1024, 16}, {33, 16}, {64, 300}} {
					n, k := sh[0], sh[1]
					x, w, bias := randMat(rng, m, k, k), randMat(rng, n, k, k), randMat(rng, 1, n, n)
					z, h := make([]float32, m*n), make([]float32, m*n)
					d.LinearReLU(m, n, k, x, k, w, k, bias, z, n, h, n)
					wz, wh := make([]float32, m*n), make([]float32, m*n)
					for i := 0; i < m; i++ {
						copy(wz[i*n:(i+1)*n], bias)
					}
					be.Sgemm(false, true, m, n, k, 1, x, k, w, k, 1, wz, n)
					rk.ReLU(wz, wh)
					for i := range z {
						if math.Float32bits(z[i]) != math.Float32bits(wz[i]) || math.Float32bits(h[i]) != math.Float32bits(wh[i]) {
							t.Fatalf("%s m=%d n=%d k=%d: element %d: z %v h %v, unfused %v %v", be.Name(), m, n, k, i, z[i], h[i], wz[i], wh[i])
						}
					}
				}
			}
		}
	}
	t.Logf("%d backends with the dense ReLU layer", tested)
}

// TestPackedProducts checks every backend with PackedProducts (avx2,
// avx512, and both capped to one and two threads) against its own unpacked
// calls, bit for bit: Sgemm on every transpose at the rehash's shapes (a
// batch of 256 and a last, short batch) and LinearReLU at the engine's
// first-layer and deeper shapes, one PackedB reused for every batch.
func TestPackedProducts(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 13))
	tested := 0
	for _, b := range usable(t) {
		for _, be := range []kernels.Backend{b, kernels.WithMaxThreads(b, 1), kernels.WithMaxThreads(b, 2)} {
			pp, ok := be.(kernels.PackedProducts)
			if !ok {
				if b.Name() == "avx2" || b.Name() == "avx512" {
					t.Errorf("%s backend (%T) lost PackedProducts", b.Name(), be)
				}
				continue
			}
			tested++
			for _, sh := range [][2]int{{300, 200}, {1024, 16}, {17, 300}} {
				n, k := sh[0], sh[1]
				for tr := 0; tr < 4; tr++ {
					tA, tB := tr&1 != 0, tr&2 != 0
					bm := randMat(rng, k, n, n)
					ldb := n
					if tB {
						bm, ldb = randMat(rng, n, k, k), k
					}
					p := pp.PackB(nil, tB, k, n, bm, ldb)
					if kk, nn := p.Dims(); kk != k || nn != n {
						t.Fatalf("%s: Dims %d×%d, packed %d×%d", be.Name(), kk, nn, k, n)
					}
					for _, m := range []int{256, 37, 1} {
						lda := k
						a := randMat(rng, m, k, k)
						if tA {
							a, lda = randMat(rng, k, m, m), m
						}
						c0 := randMat(rng, m, n, n)
						want, got := append([]float32(nil), c0...), append([]float32(nil), c0...)
						be.Sgemm(tA, tB, m, n, k, 0.5, a, lda, bm, ldb, 1, want, n)
						pp.SgemmPacked(tA, m, 0.5, a, lda, p, 1, got, n)
						for i := range got {
							if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
								t.Fatalf("%s tA=%v tB=%v m=%d n=%d k=%d: SgemmPacked element %d %v, Sgemm %v", be.Name(), tA, tB, m, n, k, i, got[i], want[i])
							}
						}
					}
				}
				w, bias := randMat(rng, n, k, k), randMat(rng, 1, n, n)
				p := pp.PackB(nil, true, k, n, w, k)
				d := be.(kernels.DenseReLU)
				for _, m := range []int{256, 7} {
					x := randMat(rng, m, k, k)
					z, h := make([]float32, m*n), make([]float32, m*n)
					wz, wh := make([]float32, m*n), make([]float32, m*n)
					d.LinearReLU(m, n, k, x, k, w, k, bias, wz, n, wh, n)
					pp.LinearReLUPacked(m, x, k, p, bias, z, n, h, n)
					for i := range z {
						if math.Float32bits(z[i]) != math.Float32bits(wz[i]) || math.Float32bits(h[i]) != math.Float32bits(wh[i]) {
							t.Fatalf("%s m=%d n=%d k=%d: LinearReLUPacked element %d: z %v h %v, LinearReLU %v %v", be.Name(), m, n, k, i, z[i], h[i], wz[i], wh[i])
						}
					}
				}
			}
		}
	}
	t.Logf("%d backends with PackedProducts", tested)
}

// TestCompare: Compare returns one positive timing per kernel for two
// backends (here every usable one against the first), the dense layer only
// where both have it.
func TestCompare(t *testing.T) {
	bs := usable(t)
	for _, b := range bs {
		ts := kernels.Compare(bs[0], b, 3)
		_, dA := bs[0].(kernels.DenseReLU)
		_, dB := b.(kernels.DenseReLU)
		want := 9
		if dA && dB {
			want++
		}
		if len(ts) != want {
			t.Fatalf("%s vs %s: %d timings, want %d", bs[0].Name(), b.Name(), len(ts), want)
		}
		for _, x := range ts {
			if x.Kernel == "" || x.A <= 0 || x.B <= 0 || !(x.Ratio > 0) || math.IsInf(x.Ratio, 0) {
				t.Fatalf("%s vs %s: timing %+v", bs[0].Name(), b.Name(), x)
			}
		}
	}
}
