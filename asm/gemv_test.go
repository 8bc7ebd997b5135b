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
							fast := append([]float32(nil), o.c...)
							copy(o.c, o.c0)
							generalOnly = true
							runGemm(gc, o)
							generalOnly = false
							for i := range fast {
								if math.Float32bits(fast[i]) != math.Float32bits(o.c[i]) {
									t.Fatalf("%s %v: C[%d] = %v by the shortcut, %v by the packed path", pathName(l), gc, i, fast[i], o.c[i])
								}
							}
						}
					}
				}
			}
		})
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
					for j := 0; j < n; j++ {
						var want, abs float64
						for p := 0; p < kb; p++ {
							v := float64(alpha) * float64(x[p*ld+j]) * float64(s[p*inc])
							want += v
							abs += math.Abs(v)
						}
						if !(math.Abs(float64(out[j])-want) <= float64(kb+2)*u32*abs+1e-30) {
							t.Fatalf("%s sumRows kb=%d n=%d alpha=%v: out[%d] = %v, want %v", l, kb, n, alpha, j, out[j], want)
						}
					}
					checkGuard32(t, buf, (off+5)%8, n)

					a := randMat(rng, n, kb, kb+n%3, off)
					lda := kb + n%3
					buf, out = guarded32(n, (off+1)%8)
					rowChains(l, kb, n, alpha, a, lda, s, inc, out)
					for r := 0; r < n; r++ {
						var want, abs float64
						for p := 0; p < kb; p++ {
							v := float64(alpha) * float64(a[r*lda+p]) * float64(s[p*inc])
							want += v
							abs += math.Abs(v)
						}
						if !(math.Abs(float64(out[r])-want) <= float64(kb+2)*u32*abs+1e-30) {
							t.Fatalf("%s rowChains kb=%d rows=%d alpha=%v: out[%d] = %v, want %v", l, kb, n, alpha, r, out[r], want)
						}
					}
					checkGuard32(t, buf, (off+1)%8, n)
				}
			}
		}
	}
}

// TestVZEROUPPER reads every assembly file of the package and checks that
// each TEXT that writes a ymm or zmm register executes VZEROUPPER before
// every RET, and that none uses registers 16–31, whose upper halves
// VZEROUPPER does not clear. Dirty upper state left behind makes the SSE
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
			if high.MatchString(code) {
				t.Errorf("%s:%d: register 16–31 used (VZEROUPPER leaves its upper half dirty): %s", f, n+1, strings.TrimSpace(line))
			}
			switch {
			case op == "TEXT":
				fn, dirty = fields[1], false
				texts++
			case op == "VZEROUPPER":
				dirty = false
			case op == "RET":
				if dirty {
					t.Errorf("%s:%d: %s returns with ymm/zmm state dirty (no VZEROUPPER since its last wide instruction)", f, n+1, fn)
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
