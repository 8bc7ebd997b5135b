package asm

import (
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Tolerances (against float64 references):
//   - Dot, RowDots, RowSumSquares: products are exact in float64, so only
//     the float64 summation errs: |got-ref| ≤ (n+4)·u64·Σ|x·y|.
//   - Axpy: the twin rounds alpha·x and the sum, the assembly rounds the
//     fused result once: |got-ref| ≤ 2·u32·(|alpha·x| + |y|).

func refDot(x, y []float32) (sum, abs float64) {
	for i := range x {
		p := float64(x[i]) * float64(y[i])
		sum += p
		abs += math.Abs(p)
	}
	return sum, abs
}

func TestDot(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, asm := range paths(t) {
		onPath(asm, func() {
			for n := 0; n <= 70; n++ {
				for off := 0; off < 8; off++ {
					x := randVec(rng, n, off)
					y := randVec(rng, n+off%3, (off+3)%8) // len(y) ≥ len(x)
					got := Dot(x, y)
					want, abs := refDot(x, y[:n])
					if d := math.Abs(got - want); d > float64(n+4)*u64*abs {
						t.Fatalf("%s Dot n=%d off=%d: got %v want %v (diff %g)", pathName(asm), n, off, got, want, d)
					}
					if twin := DotGeneric(x, y[:n]); math.Abs(got-twin) > 2*float64(n+4)*u64*abs {
						t.Fatalf("%s Dot n=%d: %v differs from twin %v", pathName(asm), n, got, twin)
					}
				}
			}
		})
	}
}

func TestDotLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	n := 100003
	x, y := randVec(rng, n, 1), randVec(rng, n, 5)
	want, abs := refDot(x, y)
	for _, asm := range paths(t) {
		onPath(asm, func() {
			if got := Dot(x, y); math.Abs(got-want) > float64(n+4)*u64*abs {
				t.Fatalf("%s: got %v want %v", pathName(asm), got, want)
			}
		})
	}
}

func TestAxpy(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, asm := range paths(t) {
		onPath(asm, func() {
			for n := 0; n <= 70; n++ {
				for off := 0; off < 8; off++ {
					alpha := float32(rng.Float64()*4 - 2)
					x := randVec(rng, n, off)
					buf, y := guarded32(n+2, (off+5)%8) // len(y) > len(x): the extra two stay put
					y0 := randVec(rng, n+2, 0)
					copy(y, y0)
					Axpy(alpha, x, y)
					for i := 0; i < n; i++ {
						ax := float64(alpha) * float64(x[i])
						want := ax + float64(y0[i])
						tol := 2 * u32 * (math.Abs(ax) + math.Abs(float64(y0[i])))
						if d := math.Abs(float64(y[i]) - want); d > tol {
							t.Fatalf("%s Axpy n=%d i=%d: got %v want %v", pathName(asm), n, i, y[i], want)
						}
					}
					if y[n] != y0[n] || y[n+1] != y0[n+1] {
						t.Fatalf("%s Axpy n=%d wrote past len(x)", pathName(asm), n)
					}
					checkGuard32(t, buf, (off+5)%8, n+2)
				}
			}
		})
	}
}

func TestRowSumSquaresAndRowDots(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, asm := range paths(t) {
		onPath(asm, func() {
			for m := 0; m <= 5; m++ {
				for n := 0; n <= 70; n++ {
					off := (m + n) % 8
					lda, ldb := n+(n%3), n+1+(m%2)
					a := randMat(rng, m, n, lda, off)
					b := randMat(rng, m, n, ldb, 7-off)
					scale := rng.Float64()*3 - 1
					obuf, out := guarded64(m)
					RowSumSquares(m, n, scale, a, lda, out)
					checkGuard64(t, obuf, m)
					for i := 0; i < m; i++ {
						s, abs := refDot(a[i*lda:i*lda+n], a[i*lda:i*lda+n])
						want := scale * s
						if d := math.Abs(out[i] - want); d > float64(n+5)*u64*abs*math.Abs(scale) {
							t.Fatalf("%s RowSumSquares m=%d n=%d row %d: got %v want %v", pathName(asm), m, n, i, out[i], want)
						}
					}
					obuf, out = guarded64(m)
					RowDots(m, n, a, lda, b, ldb, out)
					checkGuard64(t, obuf, m)
					for i := 0; i < m; i++ {
						want, abs := refDot(a[i*lda:i*lda+n], b[i*ldb:i*ldb+n])
						if d := math.Abs(out[i] - want); d > float64(n+4)*u64*abs {
							t.Fatalf("%s RowDots m=%d n=%d row %d: got %v want %v", pathName(asm), m, n, i, out[i], want)
						}
					}
				}
			}
		})
	}
}

// refSignPack is the float64-free reference: a plain comparison per bit.
func refSignPack(m, k, l int, p []float32, ldp int) []uint32 {
	codes := make([]uint32, m*l)
	for i := 0; i < m; i++ {
		for t := 0; t < l; t++ {
			for j := 0; j < k; j++ {
				if v := p[i*ldp+t*k+j]; v > 0 {
					codes[i*l+t] |= 1 << j
				}
			}
		}
	}
	return codes
}

func TestSignPack(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	specials := []float32{float32(math.NaN()), 0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
		math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, math.MaxFloat32}
	for _, asm := range paths(t) {
		onPath(asm, func() {
			for k := 1; k <= 32; k++ {
				for l := 0; l <= 9; l++ {
					for _, m := range []int{0, 1, 3} {
						w := k * l
						ldp := w + (k+l)%5
						off := (k + l + m) % 8
						p := randMat(rng, m, w, ldp, off)
						for i := 0; i < m; i++ {
							for j := 0; j < w; j++ {
								if rng.IntN(4) == 0 {
									p[i*ldp+j] = specials[rng.IntN(len(specials))]
								}
							}
						}
						cbuf := make([]uint32, m*l+2*guard)
						for i := range cbuf {
							cbuf[i] = 0xdeadbeef
						}
						codes := cbuf[guard : guard+m*l]
						SignPack(m, k, l, p, ldp, codes)
						want := refSignPack(m, k, l, p, ldp)
						for i := range want {
							if codes[i] != want[i] {
								t.Fatalf("%s SignPack m=%d k=%d l=%d code %d: got %#x want %#x", pathName(asm), m, k, l, i, codes[i], want[i])
							}
						}
						for i, v := range cbuf {
							if (i < guard || i >= guard+m*l) && v != 0xdeadbeef {
								t.Fatalf("%s SignPack m=%d k=%d l=%d: guard %d overwritten", pathName(asm), m, k, l, i)
							}
						}
					}
				}
			}
		})
	}
}

func TestVectorPanics(t *testing.T) {
	x := make([]float32, 4)
	out := make([]float64, 4)
	codes := make([]uint32, 4)
	mustPanic(t, "Dot short y", func() { Dot(x, x[:3]) })
	mustPanic(t, "Axpy short y", func() { Axpy(1, x, x[:3]) })
	mustPanic(t, "RowSumSquares ld", func() { RowSumSquares(2, 2, 1, x, 1, out) })
	mustPanic(t, "RowSumSquares short a", func() { RowSumSquares(3, 2, 1, x, 2, out) })
	mustPanic(t, "RowSumSquares short out", func() { RowSumSquares(2, 2, 1, x, 2, out[:1]) })
	mustPanic(t, "RowDots short b", func() { RowDots(2, 2, x, 2, x[:3], 2, out) })
	mustPanic(t, "MaskedRowNorms short h", func() { MaskedRowNorms(3, 2, x, 2, x, make([]float64, 9)) })
	mustPanic(t, "MaskedRowNorms short w", func() { MaskedRowNorms(1, 4, x, 4, x[:3], out) })
	mustPanic(t, "MaskedRowNorms short out", func() { MaskedRowNorms(2, 2, x, 2, x, make([]float64, 5)) })
	mustPanic(t, "SignPack k=0", func() { SignPack(1, 0, 1, x, 4, codes) })
	mustPanic(t, "SignPack k=33", func() { SignPack(1, 33, 1, x, 40, codes) })
	mustPanic(t, "SignPack short p", func() { SignPack(1, 5, 1, x, 5, codes) })
	mustPanic(t, "SignPack short codes", func() { SignPack(2, 2, 2, x, 2, codes[:3]) })
	if ok, _ := Supported(); !ok {
		mustPanic(t, "SetUseAsm unsupported", func() { SetUseAsm(true) })
	}
}

func TestVectorAllocs(t *testing.T) {
	x := make([]float32, 100)
	y := make([]float32, 100)
	out := make([]float64, 10)
	codes := make([]uint32, 10*3)
	for _, asm := range paths(t) {
		onPath(asm, func() {
			n := testing.AllocsPerRun(20, func() {
				Dot(x, y)
				Axpy(0.5, x, y)
				RowSumSquares(10, 10, 1, x, 10, out)
				RowDots(10, 10, x, 10, y, 10, out)
				MaskedRowNorms(3, 10, x, 10, y, out[:9])
				SignPack(10, 3, 3, x, 10, codes)
			})
			if n != 0 {
				t.Fatalf("%s: %v allocations per call", pathName(asm), n)
			}
		})
	}
}

func TestUseAsmAtStart(t *testing.T) {
	if !useAsmAtStart(true, "") || !useAsmAtStart(true, "0") || useAsmAtStart(true, "1") || useAsmAtStart(false, "") {
		t.Fatal("useAsmAtStart does not follow support and NTKLSH_NOASM")
	}
}

// TestBuildTagReason checks that a build with noasm or purego has no
// assembly and says which tag left it out.
func TestBuildTagReason(t *testing.T) {
	ok, why := Supported()
	if offTag != "" && (ok || !strings.Contains(why, offTag+" build tag")) {
		t.Fatalf("built with the %s tag but Supported() = %v, %q", offTag, ok, why)
	}
	t.Logf("build tag %q: %v, %s", offTag, ok, why)
}

// TestNoAsmEnv re-runs this test binary with NTKLSH_NOASM=1 and checks that
// the kernels start on the Go twins.
func TestNoAsmEnv(t *testing.T) {
	if os.Getenv("ASM_TEST_CHILD") == "1" {
		if Enabled() {
			t.Fatal("NTKLSH_NOASM=1 but the assembly is enabled")
		}
		return
	}
	if testing.Short() {
		t.Skip("spawns a process")
	}
	if ok, _ := Supported(); ok != Enabled() && os.Getenv(NoAsmEnv) == "" {
		t.Fatalf("Supported()=%v but Enabled()=%v", ok, Enabled())
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestNoAsmEnv$")
	cmd.Env = append(os.Environ(), "ASM_TEST_CHILD=1", NoAsmEnv+"=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

// TestChoose checks the selection rule: AVX-512 where supported and it
// pays, else AVX2, else Go; and that NTKLSH_NOASM=1 wins.
func TestChoose(t *testing.T) {
	yes := func() (bool, string) { return true, "pays" }
	no := func() (bool, string) { return false, "does not pay" }
	for _, c := range []struct {
		s    [numISA]bool
		pays func() (bool, string)
		want ISA
	}{
		{[numISA]bool{true, true, true}, yes, AVX512},
		{[numISA]bool{true, true, true}, no, AVX2},
		{[numISA]bool{true, true, false}, yes, AVX2},
		{[numISA]bool{true, false, false}, yes, Go},
	} {
		if got, why := choose(c.s, c.pays); got != c.want {
			t.Errorf("choose(%v) = %s (%s), want %s", c.s, got, why, c.want)
		}
	}
	if isaAtStart(AVX512, "1") != Go || isaAtStart(AVX512, "") != AVX512 || isaAtStart(AVX2, "0") != AVX2 {
		t.Error("isaAtStart does not follow NTKLSH_NOASM")
	}
	p, why := Preferred()
	t.Logf("preferred here: %s (%s)", p, why)
}

// TestISAMethodsPanicUnsupported checks that an ISA's kernels refuse to run
// where it is not supported (rather than hitting an illegal instruction).
func TestISAMethodsPanicUnsupported(t *testing.T) {
	for l := AVX2; l < numISA; l++ {
		if ok, _ := SupportedISA(l); ok {
			continue
		}
		mustPanic(t, l.String()+".Dot", func() { l.Dot(nil, nil) })
		mustPanic(t, "SetISA("+l.String()+")", func() { SetISA(l) })
	}
}

// TestSqDist: on every path SqDist(x, y) equals Dot(d, d) for d = x − y
// (float32) bit for bit — one pass instead of a difference and a dot — for
// lengths 0…70 at every start offset within a vector, reading nothing past
// either slice (NaN guards around both would poison the sum), and agrees
// with the pure-Go twin to rounding.
func TestSqDist(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, asm := range paths(t) {
		onPath(asm, func() {
			for n := 0; n <= 70; n++ {
				for off := 0; off < 8; off++ {
					bx, x := guarded32(n, off)
					by, y := guarded32(n, (off+3)%8)
					d := make([]float32, n)
					abs := 0.0
					for i := range x {
						x[i], y[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
						d[i] = x[i] - y[i]
						abs += float64(d[i]) * float64(d[i])
					}
					got, want := SqDist(x, y), Dot(d, d)
					if math.Float64bits(got) != math.Float64bits(want) {
						t.Fatalf("%s SqDist n=%d off=%d: %v, Dot of the difference %v", pathName(asm), n, off, got, want)
					}
					if twin := SqDistGeneric(x, y); math.Abs(got-twin) > 2*float64(n+4)*u64*abs {
						t.Fatalf("%s SqDist n=%d: %v differs from twin %v", pathName(asm), n, got, twin)
					}
					checkGuard32(t, bx, off, n)
					checkGuard32(t, by, (off+3)%8, n)
				}
			}
		})
	}
	mustPanic(t, "SqDist short y", func() { SqDist(make([]float32, 4), make([]float32, 3)) })
}

// TestRowSumSquaresIsDot: on every level a row's RowSumSquares (scale 1) is
// bit for bit the Dot of the row with itself, for every length up to 1100,
// padded rows and magnitudes over many decades (nn.GradSqNorms relies on it
// to take |δ|² of a batch in one call where it took one Dot per row).
func TestRowSumSquaresIsDot(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	for _, l := range paths(t) {
		for n := 1; n <= 1100; n += 1 + n/64 {
			const rows, pad = 3, 5
			lda := n + pad
			a := make([]float32, rows*lda)
			for i := range a {
				a[i] = float32(rng.NormFloat64() * math.Exp(3*rng.NormFloat64()))
			}
			out := make([]float64, rows)
			l.RowSumSquares(rows, n, 1, a, lda, out)
			for i := range rows {
				row := a[i*lda : i*lda+n]
				if d := l.Dot(row, row); math.Float64bits(out[i]) != math.Float64bits(d) {
					t.Fatalf("%s n=%d row %d: RowSumSquares %v, Dot %v", l, n, i, out[i], d)
				}
			}
		}
	}
}
