package asm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
	"testing"
)

// GEMM tolerance, against a float64 reference: each element of
// alpha·op(A)·op(B) is a k-term float32 dot product (alpha is folded into A
// with one more rounding), so
//
//	|got − ref| ≤ (k+3)·u32·|alpha|·Σ_p |a_ip·b_pj| + 2·u32·|beta·c_ij| + tiny,
//
// the classical forward error bound; a wrong or missing term gives an error
// of order |a·b| and fails it.

type gemmCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	padA, padB     int // lda − row length, ldb − row length
	padC           int
	off            int // misalignment of every slice start, in floats
}

func (c gemmCase) String() string {
	return fmt.Sprintf("tA=%v tB=%v m=%d n=%d k=%d alpha=%v beta=%v pads=%d/%d/%d off=%d",
		c.transA, c.transB, c.m, c.n, c.k, c.alpha, c.beta, c.padA, c.padB, c.padC, c.off)
}

// gemmOperands builds A, B (NaN between rows) and C (random, or NaN when
// beta == 0, with NaN between rows and guards around).
type gemmOperands struct {
	a, b, c, cbuf, c0 []float32
	lda, ldb, ldc     int
}

func makeGemm(rng *rand.Rand, gc gemmCase) gemmOperands {
	ar, ac := gc.m, gc.k
	if gc.transA {
		ar, ac = gc.k, gc.m
	}
	br, bc := gc.k, gc.n
	if gc.transB {
		br, bc = gc.n, gc.k
	}
	var o gemmOperands
	o.lda, o.ldb, o.ldc = max(ac, 1)+gc.padA, max(bc, 1)+gc.padB, max(gc.n, 1)+gc.padC
	o.a = randMat(rng, ar, ac, o.lda, gc.off)
	o.b = randMat(rng, br, bc, o.ldb, (gc.off+3)%8)
	cn := 0
	if gc.m > 0 {
		cn = (gc.m-1)*o.ldc + gc.n
	}
	o.cbuf, o.c = guarded32(cn, (gc.off+5)%8)
	if gc.beta != 0 {
		for i := 0; i < gc.m; i++ {
			for j := 0; j < gc.n; j++ {
				o.c[i*o.ldc+j] = float32(rng.Float64()*2 - 1)
			}
		}
	}
	o.c0 = append([]float32(nil), o.c...)
	return o
}

// checkGemm compares o.c with the float64 reference and checks that the gaps
// between rows of C and the guards around it are untouched.
func checkGemm(t testing.TB, label string, gc gemmCase, o gemmOperands) {
	t.Helper()
	opA := func(i, p int) float64 {
		if gc.transA {
			return float64(o.a[p*o.lda+i])
		}
		return float64(o.a[i*o.lda+p])
	}
	opB := func(p, j int) float64 {
		if gc.transB {
			return float64(o.b[j*o.ldb+p])
		}
		return float64(o.b[p*o.ldb+j])
	}
	for i := 0; i < gc.m; i++ {
		for j := 0; j < gc.n; j++ {
			var s, abs float64
			for p := 0; p < gc.k; p++ {
				v := opA(i, p) * opB(p, j)
				s += v
				abs += math.Abs(v)
			}
			want := float64(gc.alpha) * s
			tol := float64(gc.k+3)*u32*math.Abs(float64(gc.alpha))*abs + 1e-30
			if gc.beta != 0 {
				bc := float64(gc.beta) * float64(o.c0[i*o.ldc+j])
				want += bc
				tol += 2 * u32 * (math.Abs(bc) + math.Abs(want))
			}
			got := float64(o.c[i*o.ldc+j])
			if !(math.Abs(got-want) <= tol) {
				t.Fatalf("%s %v: C[%d,%d] = %v, want %v (tol %g)", label, gc, i, j, got, want, tol)
			}
		}
		for j := gc.n; j < o.ldc && i < gc.m-1; j++ {
			if v := o.c[i*o.ldc+j]; !math.IsNaN(float64(v)) {
				t.Fatalf("%s %v: gap C[%d,%d] overwritten with %v", label, gc, i, j, v)
			}
		}
	}
	checkGuard32(t, o.cbuf, (gc.off+5)%8, len(o.c))
}

func runGemm(gc gemmCase, o gemmOperands) {
	Sgemm(gc.transA, gc.transB, gc.m, gc.n, gc.k, gc.alpha, o.a, o.lda, o.b, o.ldb, gc.beta, o.c, o.ldc)
}

var scalars = []float32{0, 1, -0.5}

// TestSgemmSmall sweeps m, n over 0..40 and k over a set that covers every
// unroll remainder and the zero cases, for all four transposes, rotating
// alpha, beta, paddings and misalignment through the shapes.
func TestSgemmSmall(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	ks := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 16, 17, 31, 33, 40}
	step := 1
	if testing.Short() {
		step = 3
	}
	for _, asm := range paths(t) {
		onPath(asm, func() {
			combo := 0
			for tr := 0; tr < 4; tr++ {
				for m := 0; m <= 40; m += step {
					for n := 0; n <= 40; n += step {
						for _, k := range ks {
							combo++
							gc := gemmCase{transA: tr&1 != 0, transB: tr&2 != 0, m: m, n: n, k: k,
								alpha: scalars[combo%3], beta: scalars[(combo/3)%3],
								padA: combo % 4, padB: (combo / 4) % 3, padC: (combo / 2) % 3, off: combo % 8}
							o := makeGemm(rng, gc)
							runGemm(gc, o)
							checkGemm(t, pathName(asm), gc, o)
						}
					}
				}
			}
		})
	}
}

// TestSgemmLarge covers the cache-block edges (mc, kc, nc), several
// goroutines splitting by rows and by columns, and every alpha/beta pair.
func TestSgemmLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	shapes := [][3]int{
		{mcBlock + 7, 45, kcBlock + 3}, // several mc and kc blocks, row split
		{2*mcBlock + mr, 2 * nr512, 2 * kcBlock},
		{10, 700, 100},       // small m: column split
		{50, 3, 1000},        // tall k, thin n
		{7, ncBlock + 21, 9}, // more than one nc block
	}
	if testing.Short() {
		shapes = shapes[:3]
	}
	restore := SetMaxThreads(4)
	defer restore()
	for _, asm := range paths(t) {
		onPath(asm, func() {
			for si, s := range shapes {
				for tr := 0; tr < 4; tr++ {
					for ab := 0; ab < 9; ab++ {
						if testing.Short() && ab != (si+tr)%9 {
							continue
						}
						gc := gemmCase{transA: tr&1 != 0, transB: tr&2 != 0, m: s[0], n: s[1], k: s[2],
							alpha: scalars[ab%3], beta: scalars[ab/3], padA: 3, padB: 1, padC: 2, off: (si + tr) % 8}
						o := makeGemm(rng, gc)
						runGemm(gc, o)
						checkGemm(t, pathName(asm), gc, o)
					}
				}
			}
		})
	}
}

// TestSgemmThreadsAgree checks that the result does not depend on the
// number of goroutines (each element is computed by the same sequence of
// operations whatever the split).
func TestSgemmThreadsAgree(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(8))
	rng := rand.New(rand.NewPCG(15, 16))
	for _, asm := range paths(t) {
		onPath(asm, func() {
			// Row split and column split (m small); both big enough that
			// Sgemm splits them over up to 5 goroutines.
			for _, s := range [][3]int{{400, 130, 101}, {12, 2000, 220}} {
				if s[0]*s[1]*s[2] < 5*parallelMinWork {
					t.Fatalf("shape %v too small for Sgemm to split it 5 ways", s)
				}
				threadsAgree(t, asm, rng, gemmCase{m: s[0], n: s[1], k: s[2], alpha: 1, beta: -0.5, transB: true}, 2, 3, 5)
			}
		})
	}
}

// microKernel is one micro-kernel under test: an ISA's, or the 6×32 twin.
type microKernel struct {
	name string
	nr   int
	run  func(kc int, a, b, c []float32, ldc int, beta float32)
}

func microKernels(t testing.TB) []microKernel {
	var ks []microKernel
	for _, l := range paths(t) {
		ks = append(ks, microKernel{l.String(), tileNR(l), func(kc int, a, b, c []float32, ldc int, beta float32) {
			sgemmKernel(l, kc, a, b, c, ldc, beta)
		}})
	}
	return append(ks, microKernel{"twin32", nr512, sgemmKernel32Generic})
}

// TestSgemmKernel tests every micro-kernel (6×16 twin and AVX2, 6×32 twin
// and AVX-512) against a float64 reference for every kc up to 40 and both
// update modes.
func TestSgemmKernel(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	for _, mk := range microKernels(t) {
		nr := mk.nr
		for kc := 1; kc <= 40; kc++ {
			for _, beta := range scalars {
				a := randVec(rng, kc*mr, kc%8)
				b := randVec(rng, kc*nr, (kc+1)%8)
				ldc := nr + kc%3
				buf, c := guarded32((mr-1)*ldc+nr, kc%8)
				for i := range c {
					c[i] = float32(rng.Float64()*2 - 1)
				}
				if beta == 0 {
					for i := range c {
						c[i] = float32(math.NaN())
					}
				}
				c0 := append([]float32(nil), c...)
				mk.run(kc, a, b, c, ldc, beta)
				for i := 0; i < mr; i++ {
					for j := 0; j < ldc && i*ldc+j < len(c); j++ {
						got := c[i*ldc+j]
						if j >= nr {
							if math.Float32bits(got) != math.Float32bits(c0[i*ldc+j]) {
								t.Fatalf("%s kc=%d: gap element (%d,%d) changed", mk.name, kc, i, j)
							}
							continue
						}
						var s, abs float64
						for p := 0; p < kc; p++ {
							v := float64(a[p*mr+i]) * float64(b[p*nr+j])
							s += v
							abs += math.Abs(v)
						}
						tol := float64(kc+1) * u32 * abs
						if beta != 0 {
							bc := float64(beta) * float64(c0[i*ldc+j])
							s += bc
							tol += 2 * u32 * (math.Abs(bc) + math.Abs(s))
						}
						if !(math.Abs(float64(got)-s) <= tol) {
							t.Fatalf("%s kc=%d beta=%v: (%d,%d) = %v want %v", mk.name, kc, beta, i, j, got, s)
						}
					}
				}
				checkGuard32(t, buf, kc%8, len(c))
			}
		}
	}
}

func TestSgemmPanics(t *testing.T) {
	x := make([]float32, 16)
	mustPanic(t, "negative", func() { Sgemm(false, false, -1, 2, 2, 1, x, 2, x, 2, 0, x, 2) })
	mustPanic(t, "lda", func() { Sgemm(false, false, 2, 2, 3, 1, x, 2, x, 2, 0, x, 2) })
	mustPanic(t, "lda transA", func() { Sgemm(true, false, 3, 2, 2, 1, x, 2, x, 2, 0, x, 2) })
	mustPanic(t, "ldb transB", func() { Sgemm(false, true, 2, 2, 3, 1, x, 3, x, 2, 0, x, 2) })
	mustPanic(t, "ldc", func() { Sgemm(false, false, 2, 3, 2, 1, x, 2, x, 3, 0, x, 2) })
	mustPanic(t, "ldc alpha=0", func() { Sgemm(false, false, 2, 3, 2, 0, x, 2, x, 3, 0, x, 2) })
	mustPanic(t, "short c", func() { Sgemm(false, false, 5, 4, 2, 1, x, 2, x, 4, 0, x, 4) })
	mustPanic(t, "short a", func() { Sgemm(false, false, 3, 2, 6, 1, x, 6, x, 2, 0, x, 2) })
	mustPanic(t, "short b", func() { Sgemm(false, false, 2, 2, 9, 1, x, 9, x, 2, 0, x, 2) })
}

// TestSgemmAllocs checks that a single-goroutine call does not allocate
// once its packing buffers are pooled.
func TestSgemmAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under -race")
	}
	rng := rand.New(rand.NewPCG(19, 20))
	restore := SetMaxThreads(1)
	defer restore()
	a, b, c := randVec(rng, 60*70, 0), randVec(rng, 70*50, 0), make([]float32, 60*50)
	for _, asm := range paths(t) {
		onPath(asm, func() {
			n := testing.AllocsPerRun(20, func() {
				Sgemm(false, true, 60, 50, 70, 1, a, 70, b, 70, 0, c, 50)
			})
			if n != 0 {
				t.Fatalf("%s: %v allocations per Sgemm", pathName(asm), n)
			}
		})
	}
}

// FuzzSgemm derives the shape, transposes, scalars and data from the fuzz
// input and checks both paths against the float64 reference.
func FuzzSgemm(f *testing.F) {
	f.Add([]byte{5, 17, 9, 3, 0, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Add([]byte{40, 40, 40, 0xff, 0x80, 0x7f, 1})
	f.Add([]byte{1, 1, 1, 0, 200})
	f.Add([]byte{6, 16, 4, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 4 {
			return
		}
		flags := data[3]
		gc := gemmCase{
			m: int(data[0]) % 50, n: int(data[1]) % 50, k: int(data[2]) % 50,
			transA: flags&1 != 0, transB: flags&2 != 0,
			alpha: scalars[int(flags>>2)%3], beta: scalars[int(flags>>4)%3],
			padA: int(flags>>6) % 3, padB: int(flags>>5) % 2, padC: int(flags>>3) % 2, off: int(flags) % 8,
		}
		if gc.alpha == 0 && flags&0x80 != 0 {
			gc.alpha = 0.75
		}
		vals := data[4:]
		seed := uint64(len(data))
		for _, v := range vals {
			seed = seed*31 + uint64(v)
		}
		rng := rand.New(rand.NewPCG(seed, 21))
		o := makeGemm(rng, gc)
		// Overwrite the valid elements with values from the input (integers/16,
		// including large ones, so that cancellation happens).
		if len(vals) > 0 {
			idx := 0
			next := func() float32 { v := vals[idx%len(vals)]; idx++; return float32(int8(v)) / 16 }
			for i := range o.a {
				if !math.IsNaN(float64(o.a[i])) {
					o.a[i] = next()
				}
			}
			for i := range o.b {
				if !math.IsNaN(float64(o.b[i])) {
					o.b[i] = next()
				}
			}
		}
		c0 := append([]float32(nil), o.c...)
		for _, asm := range paths(t) {
			copy(o.c, c0)
			onPath(asm, func() { runGemm(gc, o) })
			checkGemm(t, pathName(asm), gc, o)
		}
	})
}

// TestPackA6 checks the six-row packing (the transposing assembly) against
// its definition for every kb up to 40, with alpha and a row stride.
func TestPackA6(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	for _, asm := range paths(t) {
		onPath(asm, func() {
			for kb := 1; kb <= 40; kb++ {
				for _, alpha := range []float32{1, -0.5} {
					lda := kb + kb%3
					a := randMat(rng, mr, kb, lda, kb%8)
					buf, panel := guarded32(kb*mr+2, (kb+3)%8)
					packA6(asm, panel, a, lda, kb, alpha)
					for p := 0; p < kb; p++ {
						for r := 0; r < mr; r++ {
							if got, want := panel[p*mr+r], alpha*a[r*lda+p]; got != want {
								t.Fatalf("%s kb=%d: panel(%d,%d) = %v want %v", pathName(asm), kb, r, p, got, want)
							}
						}
					}
					checkGuard32(t, buf, (kb+3)%8, kb*mr+2)
				}
			}
		})
	}
}

// TestPackAT checks the packing of whole six-column panels of A for op(A)
// = Aᵀ, row by row, against its definition: kb up to 40 and one to five
// panels, with alpha, row strides past the panels and misaligned starts;
// randMat's NaN gaps between rows must not be read.
func TestPackAT(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	for _, asm := range paths(t) {
		onPath(asm, func() {
			for kb := 0; kb <= 40; kb++ {
				for panels := 1; panels <= 5; panels++ {
					alpha := []float32{1, -0.5}[(kb+panels)%2]
					lda := panels*mr + kb%5
					a := randMat(rng, kb, panels*mr, lda, kb%8)
					buf, dst := guarded32(panels*kb*mr, (kb+3)%8)
					packAT(asm, dst, a, lda, kb, panels, alpha)
					for q := 0; q < panels; q++ {
						for p := 0; p < kb; p++ {
							for r := 0; r < mr; r++ {
								if got, want := dst[q*kb*mr+p*mr+r], alpha*a[p*lda+q*mr+r]; got != want {
									t.Fatalf("%s kb=%d panels=%d: panel %d (%d,%d) = %v want %v", pathName(asm), kb, panels, q, r, p, got, want)
								}
							}
						}
					}
					checkGuard32(t, buf, (kb+3)%8, panels*kb*mr)
				}
			}
		})
	}
}

// panelPacker is one packer of op(B) panels under test: width columns of
// op(B) per panel.
type panelPacker struct {
	name  string
	width int
	run   func(panel, b []float32, ldb, kb int)
}

// testPanelPackers runs each packer on random B blocks, kb = 1..40 with
// leading dimensions past the row and misaligned starts, and compares every
// panel element (p, j) with op(B)[p][j] = elem(b, ldb, p, j), guards around
// the panel; stored is B's shape as stored (rows, columns) for kb.
func testPanelPackers(t *testing.T, seed uint64, ps []panelPacker, stored func(kb, width int) (int, int), elem func(b []float32, ldb, p, j int) float32) {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	for _, pk := range ps {
		for kb := 1; kb <= 40; kb++ {
			rows, cols := stored(kb, pk.width)
			ldb := cols + kb%3
			b := randMat(rng, rows, cols, ldb, kb%8)
			buf, panel := guarded32(kb*pk.width, (kb+3)%8)
			pk.run(panel, b, ldb, kb)
			for p := 0; p < kb; p++ {
				for j := 0; j < pk.width; j++ {
					if got, want := panel[p*pk.width+j], elem(b, ldb, p, j); got != want {
						t.Fatalf("%s kb=%d: panel(%d,%d) = %v want %v", pk.name, kb, p, j, got, want)
					}
				}
			}
			checkGuard32(t, buf, (kb+3)%8, kb*pk.width)
		}
	}
}

// TestPackBT checks the transposing packing of op(B) = Bᵀ for each ISA's
// tile width (16 rows for the twin and AVX2, 32 for AVX-512) and the
// twin at both widths.
func TestPackBT(t *testing.T) {
	var ps []panelPacker
	for _, l := range paths(t) {
		ps = append(ps, panelPacker{l.String(), tileNR(l), func(panel, b []float32, ldb, kb int) { packBT(l, panel, b, ldb, kb) }})
	}
	for _, rows := range []int{nr, nr512} {
		ps = append(ps, panelPacker{"twin" + strconv.Itoa(rows), rows, func(panel, b []float32, ldb, kb int) { packBTGeneric(rows, panel, b, ldb, kb) }})
	}
	testPanelPackers(t, 25, ps, func(kb, width int) (int, int) { return width, kb },
		func(b []float32, ldb, p, j int) float32 { return b[j*ldb+p] })
}

// TestPackB checks the packing of op(B) = B (rows copied, four per trip
// and a tail) for each ISA's tile width and the twin at both widths.
func TestPackB(t *testing.T) {
	var ps []panelPacker
	for _, l := range paths(t) {
		ps = append(ps, panelPacker{l.String(), tileNR(l), func(panel, b []float32, ldb, kb int) { packBRows(l, panel, b, ldb, kb) }})
	}
	for _, cols := range []int{nr, nr512} {
		ps = append(ps, panelPacker{"twin" + strconv.Itoa(cols), cols, func(panel, b []float32, ldb, kb int) { packBGeneric(cols, panel, b, ldb, kb) }})
	}
	testPanelPackers(t, 27, ps, func(kb, width int) (int, int) { return kb, width },
		func(b []float32, ldb, p, j int) float32 { return b[p*ldb+j] })
}

// TestStoreBoundThreadsAgree: products with k below storeBoundK (the
// backward's k = 1 outer product), which go parallel as store-bound
// products, give the single-goroutine result bit for bit, with padding,
// misaligned starts and the guards around C untouched.
func TestStoreBoundThreadsAgree(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(8))
	rng := rand.New(rand.NewPCG(31, 32))
	for _, l := range paths(t) {
		onPath(l, func() {
			for _, gc := range []gemmCase{
				{m: 400, n: 4100, k: 1, alpha: 1, beta: 0, padC: 1, off: 4},
				{m: 500, n: 1000, k: 3, alpha: -0.5, beta: 1, padA: 2, padB: 3, off: 1, transB: true},
				{m: 900, n: 500, k: 2, alpha: 1, beta: 0.5, transA: true, off: 6},
			} {
				if gc.k >= storeBoundK || gc.m*gc.n*storeBoundK < 5*parallelMinWork || gc.m*gc.n*gc.k >= 2*parallelMinWork {
					t.Fatalf("%v: not a store-bound product split five ways that the m·n·k rule would keep whole", gc)
				}
				threadsAgree(t, l, rng, gc, 2, 3, 8)
			}
		})
	}
}

// threadsAgree runs the product gc on one goroutine and then capped at each
// of threads (GOMAXPROCS permitting), and fails unless every element of C,
// the padding between its rows included, is the same bit pattern, and the
// guards around C are untouched.
func threadsAgree(t *testing.T, l ISA, rng *rand.Rand, gc gemmCase, threads ...int) {
	t.Helper()
	o := makeGemm(rng, gc)
	ref := append([]float32(nil), o.c...)
	r := SetMaxThreads(1)
	Sgemm(gc.transA, gc.transB, gc.m, gc.n, gc.k, gc.alpha, o.a, o.lda, o.b, o.ldb, gc.beta, ref, o.ldc)
	r()
	for _, th := range threads {
		copy(o.c, o.c0)
		r := SetMaxThreads(th)
		Sgemm(gc.transA, gc.transB, gc.m, gc.n, gc.k, gc.alpha, o.a, o.lda, o.b, o.ldb, gc.beta, o.c, o.ldc)
		r()
		for i := range o.c {
			if math.Float32bits(o.c[i]) != math.Float32bits(ref[i]) {
				t.Fatalf("%s %v threads=%d: element %d %v != single-goroutine %v", pathName(l), gc, th, i, o.c[i], ref[i])
			}
		}
		checkGuard32(t, o.cbuf, (gc.off+5)%8, len(o.c))
	}
}
