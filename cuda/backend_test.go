//go:build cuda

package cuda

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/ntklsh/ntklsh/kernels"
)

// Tolerances (documented in RESULTS.md):
//   - float32 GEMM: ‖out − Generic‖/‖Generic‖ ≤ 1e-5 (Frobenius). cuBLAS runs
//     in pure FP32 (CUBLAS_DEFAULT_MATH); TF32 would give about 1e-4..1e-3
//     and fail (TestSgemmTF32 measures it).
//   - float64-accumulated reductions (Dot, RowSumSquares, RowDots): the
//     float32 products are exact in float64, so only the summation order
//     differs: |out − ref| ≤ 1e-12·Σ|terms|.
//   - elementwise float32 (Axpy, activations, bias, column sums): a few ulp,
//     as stated at each check.
const gemmTol = 1e-5

func gpu(t testing.TB) *Backend {
	t.Helper()
	be, err := Shared()
	if err != nil {
		t.Skipf("cuda: no usable GPU, skipping: %v", err)
	}
	return be
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

func fill[T any](s []T, v T) {
	for i := range s {
		s[i] = v
	}
}

// relErr is ‖got − ref‖/‖ref‖ over the m×n submatrices (ld-strided); NaN
// anywhere makes it NaN.
func relErr(m, n int, got, ref []float32, ld int) float64 {
	var d, r float64
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			g, w := float64(got[i*ld+j]), float64(ref[i*ld+j])
			d += (g - w) * (g - w)
			r += w * w
		}
	}
	if r == 0 {
		return math.Sqrt(d)
	}
	return math.Sqrt(d / r)
}

func ok(e, tol float64) bool { return e <= tol } // false for NaN

func TestRegistered(t *testing.T) {
	be := gpu(t)
	t.Logf("device: %s", be.Device())
	got, why, err := kernels.Select("cuda")
	if err != nil {
		t.Fatalf("Select(cuda): %v", err)
	}
	if got.Name() != "cuda" || got != kernels.Backend(be) {
		t.Fatalf("Select(cuda) = %s (%T), want the shared *Backend", got.Name(), got)
	}
	auto, why2, err := kernels.Select("auto")
	if err != nil {
		t.Fatalf("auto selection: %v", err)
	}
	if names := kernels.Names(); names[0] == "cuda" && auto.Name() != "cuda" {
		t.Fatalf("auto selection = %s; want cuda, the highest priority of %v, on a GPU machine", auto.Name(), names)
	}
	t.Logf("Select: %s; auto: %s (%s); registered: %v", why, auto.Name(), why2, kernels.Names())
}

type gemmCase struct{ m, n, k, pad int }

var gemmCases = []gemmCase{
	{1, 1, 1, 0}, {7, 5, 3, 0}, {3, 9, 1, 2}, {33, 17, 65, 0}, {64, 64, 64, 0},
	{100, 37, 129, 5}, {257, 130, 31, 0}, {31, 300, 200, 33}, {513, 257, 90, 1},
}

func TestSgemm(t *testing.T) {
	be := gpu(t)
	r := rand.New(rand.NewPCG(1, 2))
	ab := []struct{ alpha, beta float32 }{{1, 0}, {0.5, 0}, {1.5, -0.75}, {-1, 1}, {0, 2}, {0, 0}}
	for _, c := range gemmCases {
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				for _, s := range ab {
					name := fmt.Sprintf("%dx%dx%d_pad%d_tA%v_tB%v_a%g_b%g", c.m, c.n, c.k, c.pad, tA, tB, s.alpha, s.beta)
					ar, ac := c.m, c.k
					if tA {
						ar, ac = c.k, c.m
					}
					br, bc := c.k, c.n
					if tB {
						br, bc = c.n, c.k
					}
					lda, ldb, ldc := ac+c.pad, bc+c.pad, c.n+c.pad
					a := randSlice(r, ar*lda)
					b := randSlice(r, br*ldb)
					cRef := randSlice(r, c.m*ldc+3) // 3 trailing elements must stay untouched too
					for i := 0; i < c.m; i++ {
						for j := c.n; j < ldc; j++ {
							cRef[i*ldc+j] = 12345 // gap sentinel
						}
					}
					cGot := append([]float32(nil), cRef...)
					if s.beta == 0 {
						for i := 0; i < c.m; i++ {
							fill(cGot[i*ldc:i*ldc+c.n], float32(math.NaN())) // not read when beta == 0
						}
					}
					kernels.Generic.Sgemm(tA, tB, c.m, c.n, c.k, s.alpha, a, lda, b, ldb, s.beta, cRef, ldc)
					be.Sgemm(tA, tB, c.m, c.n, c.k, s.alpha, a, lda, b, ldb, s.beta, cGot, ldc)
					if e := relErr(c.m, c.n, cGot, cRef, ldc); !ok(e, gemmTol) {
						t.Errorf("%s: relative error %.3g > %g", name, e, gemmTol)
					}
					for i := 0; i < len(cRef); i++ {
						if i/ldc < c.m && i%ldc < c.n {
							continue
						}
						if cGot[i] != cRef[i] {
							t.Errorf("%s: element %d outside C's m×n changed: %g, want %g", name, i, cGot[i], cRef[i])
							break
						}
					}
				}
			}
		}
	}
	// k == 0: C = beta·C.
	cRef := randSlice(r, 12)
	cGot := append([]float32(nil), cRef...)
	kernels.Generic.Sgemm(false, false, 3, 4, 0, 1, nil, 1, nil, 4, 0.5, cRef, 4)
	be.Sgemm(false, false, 3, 4, 0, 1, nil, 1, nil, 4, 0.5, cGot, 4)
	if e := relErr(3, 4, cGot, cRef, 4); e != 0 {
		t.Errorf("k=0: error %g", e)
	}
}

// TestSgemmLarge compares a larger product with a float64 reference, for
// both backends, to show where the float32 rounding is.
func TestSgemmLarge(t *testing.T) {
	be := gpu(t)
	r := rand.New(rand.NewPCG(3, 4))
	m, n, k := 300, 200, 1000
	a, b := randSlice(r, m*k), randSlice(r, k*n)
	ref := make([]float32, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			s := 0.0
			for p := 0; p < k; p++ {
				s += float64(a[i*k+p]) * float64(b[p*n+j])
			}
			ref[i*n+j] = float32(s)
		}
	}
	got, gen := make([]float32, m*n), make([]float32, m*n)
	be.Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, got, n)
	kernels.Generic.Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, gen, n)
	eCuda, eGen, eBoth := relErr(m, n, got, ref, n), relErr(m, n, gen, ref, n), relErr(m, n, got, gen, n)
	t.Logf("%dx%dx%d: cuda vs float64 %.3g, generic vs float64 %.3g, cuda vs generic %.3g", m, n, k, eCuda, eGen, eBoth)
	if !ok(eCuda, gemmTol) || !ok(eBoth, gemmTol) {
		t.Errorf("relative error above %g", gemmTol)
	}
}

// TestSgemmTF32 measures what TF32 math would do to the error, on a
// separate Backend, and checks that switching back restores FP32.
func TestSgemmTF32(t *testing.T) {
	gpu(t)
	be, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	r := rand.New(rand.NewPCG(5, 6))
	m, n, k := 512, 512, 512
	a, b := randSlice(r, m*k), randSlice(r, k*n)
	ref := make([]float32, m*n)
	kernels.Generic.Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, ref, n)
	run := func(tf32 bool) float64 {
		if err := be.SetTF32(tf32); err != nil {
			t.Fatal(err)
		}
		got := make([]float32, m*n)
		be.Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, got, n)
		return relErr(m, n, got, ref, n)
	}
	eFP32, eTF32, eBack := run(false), run(true), run(false)
	t.Logf("512³: FP32 error %.3g, TF32 error %.3g, FP32 again %.3g", eFP32, eTF32, eBack)
	if !ok(eFP32, gemmTol) || !ok(eBack, gemmTol) {
		t.Errorf("FP32 error above %g", gemmTol)
	}
	if !ok(eTF32, 1e-2) {
		t.Errorf("TF32 error %.3g is not even within 1e-2", eTF32)
	}
}

func TestSgemmDevice(t *testing.T) {
	be := gpu(t)
	r := rand.New(rand.NewPCG(7, 8))
	for _, c := range gemmCases {
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				ar, ac := c.m, c.k
				if tA {
					ar, ac = c.k, c.m
				}
				br, bc := c.k, c.n
				if tB {
					br, bc = c.n, c.k
				}
				lda, ldb, ldc := ac+c.pad, bc+c.pad, c.n+c.pad
				a, b := randSlice(r, ar*lda), randSlice(r, br*ldb)
				c0 := randSlice(r, c.m*ldc)
				for _, beta := range []float32{0, 0.25} {
					// Put the operands at an offset inside a larger allocation (views).
					all, err := be.Upload(append(append(append(randSlice(r, 5), a...), b...), c0...))
					if err != nil {
						t.Fatal(err)
					}
					da := all.Slice(5, 5+len(a))
					db := all.Slice(5+len(a), 5+len(a)+len(b))
					dc := all.Slice(5+len(a)+len(b), all.Len())
					cIn := append([]float32(nil), c0...)
					if beta == 0 {
						fill(cIn, float32(math.NaN()))
						if err := dc.CopyFrom(cIn); err != nil {
							t.Fatal(err)
						}
					}
					ref := append([]float32(nil), c0...)
					kernels.Generic.Sgemm(tA, tB, c.m, c.n, c.k, 0.75, a, lda, b, ldb, beta, ref, ldc)
					if err := be.SgemmDevice(tA, tB, c.m, c.n, c.k, 0.75, da, lda, db, ldb, beta, dc, ldc); err != nil {
						t.Fatal(err)
					}
					got := make([]float32, len(c0))
					if err := dc.Download(got); err != nil {
						t.Fatal(err)
					}
					if e := relErr(c.m, c.n, got, ref, ldc); !ok(e, gemmTol) {
						t.Errorf("%v tA=%v tB=%v beta=%g: relative error %.3g", c, tA, tB, beta, e)
					}
					if err := all.Free(); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
}

var vecSizes = []int{1, 7, 31, 32, 33, 1000, 100003, 3_000_001}

func TestDot(t *testing.T) {
	be := gpu(t)
	r := rand.New(rand.NewPCG(9, 10))
	for _, n := range vecSizes {
		x, y := randSlice(r, n), randSlice(r, n+3)
		ref := kernels.Generic.Dot(x, y)
		abs := 0.0
		for i := range x {
			abs += math.Abs(float64(x[i]) * float64(y[i]))
		}
		got := be.Dot(x, y)
		if d := math.Abs(got - ref); !ok(d, 1e-12*abs) {
			t.Errorf("n=%d: Dot = %.17g, generic %.17g (diff %.3g, Σ|xy| %.3g)", n, got, ref, d, abs)
		}
		dx, err := be.Upload(x)
		if err != nil {
			t.Fatal(err)
		}
		dy, err := be.Upload(y)
		if err != nil {
			t.Fatal(err)
		}
		gotD, err := be.DotDevice(dx, dy)
		if err != nil {
			t.Fatal(err)
		}
		if gotD != got {
			t.Errorf("n=%d: DotDevice %.17g != Dot %.17g (same kernel, same order)", n, gotD, got)
		}
		dx.Free()
		dy.Free()
	}
}

func TestAxpy(t *testing.T) {
	be := gpu(t)
	r := rand.New(rand.NewPCG(11, 12))
	for _, n := range vecSizes {
		alpha := float32(r.NormFloat64())
		x, y := randSlice(r, n), randSlice(r, n+2)
		ref := append([]float32(nil), y...)
		kernels.Generic.Axpy(alpha, x, ref)
		got := append([]float32(nil), y...)
		be.Axpy(alpha, x, got)
		dx, err := be.Upload(x)
		if err != nil {
			t.Fatal(err)
		}
		dy, err := be.Upload(y)
		if err != nil {
			t.Fatal(err)
		}
		if err := be.AxpyDevice(alpha, dx, dy); err != nil {
			t.Fatal(err)
		}
		gotD := make([]float32, len(y))
		if err := dy.Download(gotD); err != nil {
			t.Fatal(err)
		}
		dx.Free()
		dy.Free()
		for i := range y {
			// Multiply and add are rounded separately on both sides: at most
			// one rounding apart, if the Go compiler fused them.
			tol := 0x1p-23 * (math.Abs(float64(y[i])) + math.Abs(float64(alpha*x[min(i, n-1)])))
			if i >= n {
				tol = 0
			}
			if d := math.Abs(float64(got[i] - ref[i])); !ok(d, tol) {
				t.Fatalf("n=%d: y[%d] = %g, generic %g", n, i, got[i], ref[i])
			}
			if d := math.Abs(float64(gotD[i] - ref[i])); !ok(d, tol) {
				t.Fatalf("n=%d device: y[%d] = %g, generic %g", n, i, gotD[i], ref[i])
			}
		}
	}
}

type rowCase struct{ m, n, pad int }

var rowCases = []rowCase{{1, 1, 0}, {1, 5000, 0}, {5, 0, 0}, {3, 1500, 7}, {9, 1024, 0}, {3, 31, 1}, {37, 91, 9}, {1000, 33, 0}, {4096, 90, 6}, {300, 4096, 0}}

func TestRowSumSquares(t *testing.T) {
	be := gpu(t)
	r := rand.New(rand.NewPCG(13, 14))
	for _, c := range rowCases {
		lda := c.n + c.pad
		a := randSlice(r, max(c.m*lda, 1))
		scale := 0.5 + r.Float64()
		ref := make([]float64, c.m)
		kernels.Generic.RowSumSquares(c.m, c.n, scale, a, lda, ref)
		got := make([]float64, c.m+1)
		fill(got, math.NaN())
		be.RowSumSquares(c.m, c.n, scale, a, lda, got)
		gotD := make([]float64, c.m)
		fill(gotD, math.NaN())
		da, err := be.Upload(a)
		if err != nil {
			t.Fatal(err)
		}
		if err := be.RowSumSquaresDevice(c.m, c.n, scale, da, lda, gotD); err != nil {
			t.Fatal(err)
		}
		da.Free()
		for i := range ref {
			tol := 1e-12 * math.Abs(ref[i]) // all terms are positive
			if !ok(math.Abs(got[i]-ref[i]), tol) || !ok(math.Abs(gotD[i]-ref[i]), tol) {
				t.Fatalf("%v row %d: got %.17g / device %.17g, generic %.17g", c, i, got[i], gotD[i], ref[i])
			}
		}
		if !math.IsNaN(got[c.m]) {
			t.Errorf("%v: out[m] was written", c)
		}
	}
}

func TestRowDots(t *testing.T) {
	be := gpu(t)
	r := rand.New(rand.NewPCG(15, 16))
	for _, c := range rowCases {
		lda, ldb := c.n+c.pad, c.n+2*c.pad+1
		a, b := randSlice(r, max(c.m*lda, 1)), randSlice(r, max(c.m*ldb, 1))
		ref := make([]float64, c.m)
		kernels.Generic.RowDots(c.m, c.n, a, lda, b, ldb, ref)
		got, gotD := make([]float64, c.m), make([]float64, c.m)
		fill(got, math.NaN())
		fill(gotD, math.NaN())
		be.RowDots(c.m, c.n, a, lda, b, ldb, got)
		da, err := be.Upload(a)
		if err != nil {
			t.Fatal(err)
		}
		db, err := be.Upload(b)
		if err != nil {
			t.Fatal(err)
		}
		if err := be.RowDotsDevice(c.m, c.n, da, lda, db, ldb, gotD); err != nil {
			t.Fatal(err)
		}
		da.Free()
		db.Free()
		for i := range ref {
			abs := 0.0
			for j := 0; j < c.n; j++ {
				abs += math.Abs(float64(a[i*lda+j]) * float64(b[i*ldb+j]))
			}
			if !ok(math.Abs(got[i]-ref[i]), 1e-12*abs) || !ok(math.Abs(gotD[i]-ref[i]), 1e-12*abs) {
				t.Fatalf("%v row %d: got %.17g / device %.17g, generic %.17g", c, i, got[i], gotD[i], ref[i])
			}
		}
	}
}

func TestSignPack(t *testing.T) {
	be := gpu(t)
	r := rand.New(rand.NewPCG(17, 18))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1e-45, -1e-45}
	for _, m := range []int{1, 33, 1000} {
		for _, k := range []int{1, 5, 8, 31, 32} {
			for _, l := range []int{1, 3, 17, 200} {
				for _, pad := range []int{0, 3} {
					ldp := k*l + pad
					p := randSlice(r, m*ldp)
					for i := range p {
						if r.IntN(10) == 0 {
							p[i] = special[r.IntN(len(special))]
						}
					}
					ref := make([]uint32, m*l)
					kernels.Generic.SignPack(m, k, l, p, ldp, ref)
					got := make([]uint32, m*l)
					fill(got, 0xdeadbeef)
					be.SignPack(m, k, l, p, ldp, got)
					gotD := make([]uint32, m*l)
					fill(gotD, 0xdeadbeef)
					dp, err := be.Upload(p)
					if err != nil {
						t.Fatal(err)
					}
					if err := be.SignPackDevice(m, k, l, dp, ldp, gotD); err != nil {
						t.Fatal(err)
					}
					dp.Free()
					for i := range ref {
						if got[i] != ref[i] || gotD[i] != ref[i] {
							t.Fatalf("m=%d k=%d l=%d pad=%d: code %d = %#x / device %#x, generic %#x", m, k, l, pad, i, got[i], gotD[i], ref[i])
						}
					}
				}
			}
		}
	}
}

func TestActivations(t *testing.T) {
	be := gpu(t)
	r := rand.New(rand.NewPCG(19, 20))
	for _, n := range []int{1, 1000, 100003} {
		z := randSlice(r, n)
		g := randSlice(r, n)
		for i := range z {
			z[i] *= 3
			if r.IntN(50) == 0 {
				z[i] = 0
			}
		}
		dz, err := be.Upload(z)
		if err != nil {
			t.Fatal(err)
		}
		dg, err := be.Upload(g)
		if err != nil {
			t.Fatal(err)
		}
		dout, err := be.NewBuffer(n)
		if err != nil {
			t.Fatal(err)
		}
		for _, act := range []Activation{ReLU, Tanh} {
			poison := make([]float32, n)
			fill(poison, float32(math.NaN()))
			if err := dout.CopyFrom(poison); err != nil {
				t.Fatal(err)
			}
			if err := be.ActivationForward(act, dz, dout); err != nil {
				t.Fatal(err)
			}
			h := make([]float32, n)
			if err := dout.Download(h); err != nil {
				t.Fatal(err)
			}
			if err := dout.CopyFrom(poison); err != nil {
				t.Fatal(err)
			}
			if err := be.ActivationBackward(act, dz, dg, dout); err != nil {
				t.Fatal(err)
			}
			d := make([]float32, n)
			if err := dout.Download(d); err != nil {
				t.Fatal(err)
			}
			for i := range z {
				var hRef, dRef, hTol, dTol float64
				if act == ReLU {
					hRef = max(float64(z[i]), 0)
					if z[i] > 0 {
						dRef = float64(g[i])
					}
				} else {
					th := math.Tanh(float64(z[i]))
					hRef, dRef = th, float64(g[i])*(1-th*th)
					hTol = 3e-7                           // tanhf: ≤ 2 ulp of a value ≤ 1
					dTol = 2e-6 * math.Abs(float64(g[i])) // 1 − t² and the product, a few ulp
				}
				if !ok(math.Abs(float64(h[i])-hRef), hTol) || !ok(math.Abs(float64(d[i])-dRef), dTol+1e-6*math.Abs(dRef)) {
					t.Fatalf("%s n=%d z[%d]=%g g=%g: forward %g (want %g), backward %g (want %g)", act, n, i, z[i], g[i], h[i], hRef, d[i], dRef)
				}
			}
		}
		// In place: out aliases g.
		if err := be.ActivationBackward(Tanh, dz, dg, dg); err != nil {
			t.Fatal(err)
		}
		d := make([]float32, n)
		if err := dg.Download(d); err != nil {
			t.Fatal(err)
		}
		for i := range z {
			th := math.Tanh(float64(z[i]))
			if want := float64(g[i]) * (1 - th*th); !ok(math.Abs(float64(d[i])-want), 2e-6*math.Abs(float64(g[i]))+1e-6*math.Abs(want)) {
				t.Fatalf("in place n=%d [%d]: %g want %g", n, i, d[i], want)
			}
		}
		dz.Free()
		dg.Free()
		dout.Free()
	}
}

func TestBiasAddColSums(t *testing.T) {
	be := gpu(t)
	r := rand.New(rand.NewPCG(21, 22))
	for _, c := range []rowCase{{1, 1, 0}, {3, 31, 1}, {37, 91, 9}, {4096, 90, 6}, {70000, 3, 1}, {300, 4096, 0}} {
		lda := c.n + c.pad
		a := randSlice(r, c.m*lda)
		bias := randSlice(r, c.n)
		da, err := be.Upload(a)
		if err != nil {
			t.Fatal(err)
		}
		db, err := be.Upload(bias)
		if err != nil {
			t.Fatal(err)
		}
		if err := be.BiasAdd(c.m, c.n, db, da, lda); err != nil {
			t.Fatal(err)
		}
		got := make([]float32, len(a))
		if err := da.Download(got); err != nil {
			t.Fatal(err)
		}
		for i := range a {
			want := a[i]
			if i%lda < c.n {
				want += bias[i%lda]
			}
			if got[i] != want { // one float32 addition, same rounding
				t.Fatalf("BiasAdd %v: [%d] = %g, want %g", c, i, got[i], want)
			}
		}
		dsum, err := be.NewBuffer(c.n + 1)
		if err != nil {
			t.Fatal(err)
		}
		poison := make([]float32, c.n+1)
		fill(poison, float32(math.NaN()))
		if err := dsum.CopyFrom(poison); err != nil {
			t.Fatal(err)
		}
		if err := be.ColSums(c.m, c.n, da, lda, dsum); err != nil {
			t.Fatal(err)
		}
		sums := make([]float32, c.n+1)
		if err := dsum.Download(sums); err != nil {
			t.Fatal(err)
		}
		for j := 0; j < c.n; j++ {
			s, abs := 0.0, 0.0
			for i := 0; i < c.m; i++ {
				v := float64(got[i*lda+j])
				s += v
				abs += math.Abs(v)
			}
			// float64 sums (in another order) rounded once to float32: half an ulp.
			if !ok(math.Abs(float64(sums[j])-s), 0x1p-24*math.Abs(s)+1e-10*abs) {
				t.Fatalf("ColSums %v: [%d] = %g, want %g", c, j, sums[j], s)
			}
		}
		if !math.IsNaN(float64(sums[c.n])) {
			t.Errorf("ColSums %v wrote past n", c)
		}
		da.Free()
		db.Free()
		dsum.Free()
	}
}

func TestConcurrentUse(t *testing.T) {
	be := gpu(t)
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 99))
			for it := 0; it < 20; it++ {
				m, n, k := 1+r.IntN(200), 1+r.IntN(200), 1+r.IntN(200)
				a, b := randSlice(r, m*k), randSlice(r, k*n)
				got, ref := make([]float32, m*n), make([]float32, m*n)
				be.Sgemm(false, true, m, n, k, 1, a, k, randSliceT(b, k, n), k, 0, got, n)
				kernels.Generic.Sgemm(false, true, m, n, k, 1, a, k, randSliceT(b, k, n), k, 0, ref, n)
				if e := relErr(m, n, got, ref, n); !ok(e, gemmTol) {
					errs <- fmt.Sprintf("worker %d it %d: error %.3g", w, it, e)
					return
				}
				x := randSlice(r, 1+r.IntN(5000))
				if d := be.Dot(x, x) - kernels.Generic.Dot(x, x); math.Abs(d) > 1e-9*kernels.Generic.Dot(x, x) {
					errs <- fmt.Sprintf("worker %d it %d: Dot off by %g", w, it, d)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// randSliceT returns the n×k transpose of the k×n row-major b.
func randSliceT(b []float32, k, n int) []float32 {
	t := make([]float32, n*k)
	for p := 0; p < k; p++ {
		for j := 0; j < n; j++ {
			t[j*k+p] = b[p*n+j]
		}
	}
	return t
}

func expectPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if s, _ := r.(string); !strings.HasPrefix(s, "cuda: ") {
			t.Errorf("%s: recovered %v, want a panic with a \"cuda: \" message", what, r)
		}
	}()
	f()
}

func TestMisuseAndClose(t *testing.T) {
	gpu(t)
	be, err := New()
	if err != nil {
		t.Fatal(err)
	}
	buf, err := be.Upload([]float32{1, 2, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	expectPanic(t, "Slice out of range", func() { buf.Slice(2, 5) })
	expectPanic(t, "Sgemm short buffer", func() {
		be.Sgemm(false, false, 2, 2, 2, 1, make([]float32, 3), 2, make([]float32, 4), 2, 0, make([]float32, 4), 2)
	})
	expectPanic(t, "SgemmDevice short buffer", func() { be.SgemmDevice(false, false, 2, 2, 3, 1, buf, 3, buf, 2, 0, buf, 2) })
	expectPanic(t, "SignPack k=33", func() { be.SignPack(1, 33, 1, make([]float32, 33), 33, make([]uint32, 1)) })
	expectPanic(t, "Free of a view", func() { buf.Slice(0, 2).Free() })
	other, err := Shared()
	if err != nil {
		t.Fatal(err)
	}
	expectPanic(t, "Buffer of another Backend", func() { other.AxpyDevice(1, buf, buf) })
	if err := buf.Free(); err != nil {
		t.Fatal(err)
	}
	expectPanic(t, "use after Free", func() { buf.Download(make([]float32, 1)) })
	if err := be.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := be.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := be.NewBuffer(4); err != errClosed {
		t.Fatalf("NewBuffer after Close: %v, want %v", err, errClosed)
	}
	expectPanic(t, "Sgemm after Close", func() { be.Sgemm(false, false, 1, 1, 1, 1, []float32{1}, 1, []float32{1}, 1, 0, []float32{0}, 1) })
	// The shared Backend still works.
	if d := other.Dot([]float32{1, 2}, []float32{3, 4}); d != 11 {
		t.Fatalf("shared Dot = %g after closing another Backend", d)
	}
}
