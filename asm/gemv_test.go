package asm

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestSgemmShortcutsBitIdentical checks that the matrix-vector path (m == 1
// or n == 1) and the 16-wide tile for narrow products on the AVX-512 level
// give exactly the bits of the packed path they replace, on every assembly
// level, over all transposes, several kc blocks, alpha ≠ 1, every beta,
// paddings and misaligned starts (and the float64 reference on the Go
// twin, whose fusing of a·b+c is the compiler's choice).
func TestSgemmShortcutsBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	shapes := [][3]int{ // m, n, k
		{1, 1, 1}, {1, 1, 600}, {32, 1, 1024}, {37, 1, 300}, {1, 1024, 32}, {1, 45, 513},
		{7, 1, 5}, {1, 9, 7}, {256, 1, 17}, {1024, 16, 32}, {100, 13, 300}, {32, 16, 1}, {9, 5, 260},
	}
	combo := 0
	defer withPath(packed)() // the no-pack paths have their own test
	for _, l := range paths(t) {
		onPath(l, func() {
			for _, sh := range shapes {
				for tr := 0; tr < 4; tr++ {
					for _, alpha := range []float32{1, 0.7} {
						for _, beta := range scalars {
							combo++
							gc := gemmCase{transA: tr&1 != 0, transB: tr&2 != 0, m: sh[0], n: sh[1], k: sh[2],
								alpha: alpha, beta: beta, padA: combo % 3, padB: (combo / 3) % 2, padC: combo % 2, off: combo % 8}
							o := makeGemm(rng, gc)
							runGemm(gc, o)
							checkGemm(t, pathName(l), gc, o)
							if l == Go {
								continue
							}
							againBits(t, pathName(l)+" packed path instead of the shortcut", gc, o, func() func() {
								generalOnly = true
								return func() { generalOnly = false }
							})
						}
					}
				}
			}
		})
	}
}

// againBits runs gc again on o from its first C with change applied (undone
// after) and fails unless C comes out with the same bits as the first run.
func againBits(t *testing.T, label string, gc gemmCase, o gemmOperands, change func() (undo func())) {
	t.Helper()
	first := append([]float32(nil), o.c...)
	copy(o.c, o.c0)
	undo := change()
	runGemm(gc, o)
	undo()
	for i := range first {
		if math.Float32bits(first[i]) != math.Float32bits(o.c[i]) {
			t.Fatalf("%s %v: C[%d] = %v, first run %v", label, gc, i, o.c[i], first[i])
		}
	}
}

// TestGemvKernels checks sumRows and rowChains on every level against the
// float64 reference: every length through the vector blocks and the scalar
// tail, strides, alpha 1 (rowChains1FMA) and not, misaligned starts, NaN
// in the gaps that must not be read, NaN guards around out.
func TestGemvKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	for _, l := range paths(t) {
		for kb := 1; kb <= 19; kb += 3 {
			for n := 1; n <= 80; n++ {
				for _, alpha := range []float32{1, -0.75} {
					off := (n + kb) % 8
					inc, ld := 1+n%3, n+n%4
					s := randMat(rng, kb, 1, inc, off)
					x := randMat(rng, kb, n, ld, (off+3)%8)
					buf, out := guarded32(n, (off+5)%8)
					sumRows(l, kb, n, alpha, s, inc, x, ld, out)
					checkChains(t, l.String()+" sumRows", kb, alpha, out, func(j, p int) float32 { return x[p*ld+j] }, s, inc)
					checkGuard32(t, buf, (off+5)%8, n)

					a := randMat(rng, n, kb, kb+n%3, off)
					lda := kb + n%3
					buf, out = guarded32(n, (off+1)%8)
					rowChains(l, kb, n, alpha, a, lda, s, inc, out)
					checkChains(t, l.String()+" rowChains", kb, alpha, out, func(r, p int) float32 { return a[r*lda+p] }, s, inc)
					checkGuard32(t, buf, (off+1)%8, n)
				}
			}
		}
	}
}

// checkChains compares out[i] with the float64 Σ_{p<kb} alpha·x(i, p)·s[p·inc]
// within the forward error bound of a kb-term float32 sum.
func checkChains(t *testing.T, name string, kb int, alpha float32, out []float32, x func(i, p int) float32, s []float32, inc int) {
	t.Helper()
	for i := range out {
		var want, abs float64
		for p := 0; p < kb; p++ {
			v := float64(alpha) * float64(x(i, p)) * float64(s[p*inc])
			want += v
			abs += math.Abs(v)
		}
		if !(math.Abs(float64(out[i])-want) <= float64(kb+2)*u32*abs+1e-30) {
			t.Fatalf("%s kb=%d n=%d alpha=%v: out[%d] = %v, want %v", name, kb, len(out), alpha, i, out[i], want)
		}
	}
}

// TestVZEROUPPER reads every assembly file of the package and checks that
// each TEXT that writes a ymm or zmm register executes VZEROUPPER before
// every RET, and that every register 16–31 it writes (VZEROUPPER does not
// clear those) is zeroed by vpxord Xn, Xn, Xn before every RET. Dirty upper state left behind makes the SSE
// code of the Go runtime and compiled Go (the ABI wrapper's XORPS X15, for
// one) pay a transition or a false dependency on every call.
func TestVZEROUPPER(t *testing.T) {
	files, err := filepath.Glob("*.s")
	if err != nil || len(files) == 0 {
		t.Fatalf("no assembly files found (%v)", err)
	}
	wide := regexp.MustCompile(`\b[YZ](\d|[12]\d|3[01])\b`)
	high := regexp.MustCompile(`\b[XYZ](1[6-9]|2\d|3[01])\b`)
	texts := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// Expand the file's macros by name: a line that calls one counts
		// as using the registers in its body.
		macros := map[string]string{}
		lines := strings.Split(string(src), "\n")
		for i := 0; i < len(lines); i++ {
			if !strings.HasPrefix(lines[i], "#define ") {
				continue
			}
			name := strings.FieldsFunc(strings.TrimPrefix(lines[i], "#define "), func(r rune) bool { return r == '(' || r == ' ' || r == '\t' })[0]
			body := lines[i]
			for strings.HasSuffix(strings.TrimSpace(lines[i]), "\\") && i+1 < len(lines) {
				i++
				body += "\n" + lines[i]
			}
			macros[name] = body
		}
		var fn string
		dirty := false
		highDirty := map[string]bool{}
		for n, line := range lines {
			code := line
			if c := strings.Index(code, "//"); c >= 0 {
				code = code[:c]
			}
			fields := strings.Fields(code)
			if len(fields) == 0 {
				continue
			}
			op := strings.FieldsFunc(fields[0], func(r rune) bool { return r == '(' })[0]
			if body, ok := macros[op]; ok {
				code += " " + body
			}
			if op == "VPXORD" && len(fields) == 4 && fields[1] == fields[2] && fields[1] == fields[3]+"," {
				delete(highDirty, strings.TrimSuffix(fields[1], ","))
			} else {
				for _, r := range high.FindAllString(code, -1) {
					highDirty["X"+r[1:]] = true
				}
			}
			switch {
			case op == "TEXT":
				fn, dirty, highDirty = fields[1], false, map[string]bool{}
				texts++
			case op == "VZEROUPPER":
				dirty = false
			case op == "RET":
				if dirty {
					t.Errorf("%s:%d: %s returns with ymm/zmm state dirty (no VZEROUPPER since its last wide instruction)", f, n+1, fn)
				}
				if len(highDirty) > 0 {
					t.Errorf("%s:%d: %s returns with registers 16–31 written and not zeroed (VZEROUPPER leaves them): %v", f, n+1, fn, highDirty)
				}
			case wide.MatchString(code):
				dirty = true
			}
		}
	}
	if texts < 20 {
		t.Fatalf("found only %d TEXT symbols: the check did not read the files", texts)
	}
}

// TestAVX2KernelsAvoidEVEX checks that no assembly function of the AVX2
// level (named …AVX2) names a register only AVX-512 has (X/Y16–31, Z, K):
// the Go assembler would encode such an instruction with EVEX, which
// faults on an AVX2-only CPU. The generator's register allocator picks
// the lowest free register, so this holds while an AVX2 kernel needs at
// most sixteen vector registers at once.
func TestAVX2KernelsAvoidEVEX(t *testing.T) {
	files, err := filepath.Glob("*.s")
	if err != nil || len(files) == 0 {
		t.Fatalf("no assembly files found (%v)", err)
	}
	evex := regexp.MustCompile(`\b([XY](1[6-9]|2\d|3[01])|Z\d+|K[0-7])\b`)
	fns := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fn := ""
		for n, line := range strings.Split(string(src), "\n") {
			code, _, _ := strings.Cut(line, "//")
			if fields := strings.Fields(code); len(fields) > 1 && fields[0] == "TEXT" {
				fn = strings.TrimSuffix(fields[1], "(SB),")
				if strings.HasSuffix(fn, "AVX2") {
					fns++
				}
				continue
			}
			if strings.HasSuffix(fn, "AVX2") && evex.MatchString(code) {
				t.Errorf("%s:%d: %s (AVX2 level) uses an AVX-512 register: %s", f, n+1, fn, strings.TrimSpace(code))
			}
		}
	}
	if fns < 13 {
		t.Fatalf("found only %d AVX2 functions: the check did not read the files", fns)
	}
}

// TestSgemmKernel12 checks the 12×32 and 12×16 tiles against two calls of
// the six-row tile of the same width (6×32 AVX-512, 6×16 AVX2), bit for
// bit (the same FMA chain per element), for every kc up to 45 (past one
// unroll), every beta, with NaN guards around C and between its rows and a
// misaligned C.
func TestSgemmKernel12(t *testing.T) {
	if ok, why := SupportedISA(AVX512); !ok {
		t.Skip(why)
	}
	rng := rand.New(rand.NewPCG(35, 36))
	for _, w := range []struct {
		nr  int
		six ISA
	}{{nr512, AVX512}, {nr, AVX2}} {
		ldc := w.nr + 5
		for kc := 0; kc <= 45; kc++ {
			for _, beta := range scalars {
				a := randVec(rng, max(2*kc*mr, 1), kc%8)
				b := randVec(rng, max(kc*w.nr, 1), (kc+3)%8)
				n := (2*mr-1)*ldc + w.nr
				buf, c := guarded32(n, kc%8)
				for i := range c {
					if i%ldc < w.nr {
						c[i] = float32(rng.Float64()*2 - 1)
					}
				}
				want := append([]float32(nil), c...)
				if kc > 0 {
					sgemmKernel(w.six, kc, a, b, want, ldc, beta)
					sgemmKernel(w.six, kc, a[kc*mr:], b, want[mr*ldc:], ldc, beta)
					sgemmKernel12(w.nr, kc, a, b, c, ldc, beta)
				}
				for i := range c {
					if math.Float32bits(c[i]) != math.Float32bits(want[i]) {
						t.Fatalf("12×%d kc=%d beta=%v: C[%d,%d] = %v, two six-row tiles give %v", w.nr, kc, beta, i/ldc, i%ldc, c[i], want[i])
					}
				}
				checkGuard32(t, buf, kc%8, n)
			}
		}
	}
}

// TestSgemmTile12BitIdentical runs products that use the 12×32 tile with it
// and without it: the results must agree bit for bit.
func TestSgemmTile12BitIdentical(t *testing.T) {
	if ok, why := SupportedISA(AVX512); !ok {
		t.Skip(why)
	}
	rng := rand.New(rand.NewPCG(37, 38))
	onPath(AVX512, func() {
		for i, sh := range [][3]int{{12, 32, 5}, {100, 70, 300}, {mcBlock + 13, 64, kcBlock + 9}, {37, 200, 40}} {
			for tr := 0; tr < 4; tr++ {
				gc := gemmCase{transA: tr&1 != 0, transB: tr&2 != 0, m: sh[0], n: sh[1], k: sh[2],
					alpha: 0.7, beta: scalars[(i+tr)%3], padA: tr % 3, padB: i % 2, padC: 1, off: (i + tr) % 8}
				o := makeGemm(rng, gc)
				prev := tile12
				tile12 = true
				runGemm(gc, o)
				checkGemm(t, "avx512", gc, o)
				againBits(t, "avx512 6×32 tile instead of 12×32", gc, o, func() func() {
					tile12 = false
					return func() { tile12 = prev }
				})
				tile12 = prev
			}
		}
	})
}

// TestRowChainsVector checks that the vector forms of rowChains (sixteen
// rows per zmm on AVX-512, eight per ymm on AVX2: an in-register transpose
// per sixteen or eight p, masked loads for the tail of kb) give bit for bit
// the scalar kernels' chains: kb through
// full blocks and every tail, row counts past multiples of 16 (the scalar
// kernel takes the rest), alpha 1 and not, strides of s, leading dimensions
// past the row, misaligned starts, NaN guards around out.
func TestRowChainsVector(t *testing.T) {
	rng := rand.New(rand.NewPCG(35, 36))
	for _, l := range paths(t) {
		if l != Go {
			testRowChainsVector(t, rng, l)
		}
	}
}

func testRowChainsVector(t *testing.T, rng *rand.Rand, l ISA) {
	kbs := []int{1, 2, 7, 15, 16, 17, 31, 32, 33, 47, 255, 256}
	for _, kb := range kbs {
		for _, rows := range []int{8, 9, 15, 16, 17, 31, 32, 33, 48, 70} {
			for _, alpha := range []float32{1, -0.75} {
				off := (kb + rows) % 8
				inc, lda := 1+rows%3, kb+rows%5
				s := randMat(rng, kb, 1, inc, off)
				a := randMat(rng, rows, kb, lda, (off+3)%8)
				buf, out := guarded32(rows, (off+5)%8)
				rowChains(l, kb, rows, alpha, a, lda, s, inc, out)
				checkGuard32(t, buf, (off+5)%8, rows)
				want := make([]float32, rows)
				scalarChains = true
				rowChains(l, kb, rows, alpha, a, lda, s, inc, want)
				scalarChains = false
				for i := range want {
					if math.Float32bits(out[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s kb=%d rows=%d alpha=%v: out[%d] = %v, scalar chain %v", l, kb, rows, alpha, i, out[i], want[i])
					}
				}
			}
		}
	}
}
