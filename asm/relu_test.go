package asm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// specials are the inputs where ReLU semantics are decided: signed zeros,
// NaNs of both signs (x86's default NaN has the sign bit set), infinities,
// subnormals.
var specials = []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), math.Float32frombits(0xffc00000),
	float32(math.Inf(1)), float32(math.Inf(-1)), math.Float32frombits(1), math.Float32frombits(0x80000001), 1, -1}

// reluInput returns n values at offset off: random signs, with the
// specials mixed in, so that every lane position of the vector loops sees
// each of them across the sweep.
func reluInput(rng *rand.Rand, n, off int) []float32 {
	x := randVec(rng, n, off)
	for i := range x {
		if rng.IntN(3) == 0 {
			x[i] = specials[rng.IntN(len(specials))]
		}
	}
	return x
}

// sameBits compares bit patterns, treating every NaN as equal to every
// NaN (the kernels need not preserve NaN payloads or signs).
func sameBits(a, b float32) bool {
	if a != a || b != b {
		return a != a && b != b
	}
	return math.Float32bits(a) == math.Float32bits(b)
}

func TestReLU(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, asm := range paths(t) {
		onPath(asm, func() {
			for n := 0; n <= 70; n++ {
				for off := 0; off < 8; off++ {
					x := reluInput(rng, n, off)
					buf, y := guarded32(n+1, (off+3)%8) // len(y) > len(x): the extra one stays put
					ReLU(x, y)
					for i, v := range x {
						if want := max(v, 0); !sameBits(y[i], want) {
							t.Fatalf("%s ReLU n=%d off=%d i=%d: max(%v (%#x), 0) = %v (%#x), want %v", pathName(asm), n, off, i, v,
								math.Float32bits(v), y[i], math.Float32bits(y[i]), want)
						}
					}
					if !math.IsNaN(float64(y[n])) {
						t.Fatalf("%s ReLU n=%d wrote past len(x)", pathName(asm), n)
					}
					checkGuard32(t, buf, (off+3)%8, n+1)
					// In place.
					z := append([]float32(nil), x...)
					ReLU(z, z)
					for i := range z {
						if !sameBits(z[i], y[i]) {
							t.Fatalf("%s ReLU in place n=%d i=%d: %v vs %v", pathName(asm), n, i, z[i], y[i])
						}
					}
				}
			}
		})
	}
}

func TestReLUMask(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	for _, asm := range paths(t) {
		onPath(asm, func() {
			for n := 0; n <= 70; n++ {
				for off := 0; off < 8; off++ {
					h := reluInput(rng, n, off)
					g0 := reluInput(rng, n+1, (off+5)%8)
					buf, g := guarded32(n+1, (off+5)%8)
					copy(g, g0)
					ReLUMask(h, g)
					for i, v := range h {
						want := g0[i]
						if v == 0 {
							want = 0
						}
						if math.Float32bits(g[i]) != math.Float32bits(want) {
							t.Fatalf("%s ReLUMask n=%d off=%d i=%d: h=%v g=%v -> %v (%#x), want %v (%#x)", pathName(asm), n, off, i, v, g0[i],
								g[i], math.Float32bits(g[i]), want, math.Float32bits(want))
						}
					}
					if math.Float32bits(g[n]) != math.Float32bits(g0[n]) {
						t.Fatalf("%s ReLUMask n=%d wrote past len(h)", pathName(asm), n)
					}
					checkGuard32(t, buf, (off+5)%8, n+1)
				}
			}
		})
	}
}

func TestReLUShortOutputPanics(t *testing.T) {
	mustPanic(t, "ReLU", func() { ReLU(make([]float32, 3), make([]float32, 2)) })
	mustPanic(t, "ReLUMask", func() { ReLUMask(make([]float32, 3), make([]float32, 2)) })
}
