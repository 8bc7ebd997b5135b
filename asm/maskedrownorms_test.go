package asm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// maskedRow fills row (n elements) with ReLU-like activations: about a
// third +0, a few −0, the rest positive, with some negative values (which
// the mask keeps, like any nonzero h); allZero clears the whole row, as a
// point on which every unit is dead.
func maskedRow(rng *rand.Rand, row []float32, allZero bool) {
	for j := range row {
		switch r := rng.IntN(12); {
		case allZero || r < 4:
			row[j] = 0
		case r == 4:
			row[j] = float32(math.Copysign(0, -1))
		case r == 5:
			row[j] = -float32(rng.Float64())
		default:
			// Magnitudes over 2⁻¹²…2¹², so that the float64 sums round
			// and an order that differs from the unfused kernels' shows.
			row[j] = float32(math.Ldexp(rng.ExpFloat64(), rng.IntN(25)-12))
		}
	}
}

// TestMaskedRowNorms: on every path MaskedRowNorms gives, for each row,
// RowSumSquares of h, Dot(d, d) and RowDots(d, h) of the float32 row
// d = ReLUMask(h, w) of the same path bit for bit (one pass instead of a
// mask, a copy and three reductions), for lengths 0…70 and a few long rows
// at misaligned starts, with NaN in the gaps between rows and around w and
// out (never read nor written), rows entirely zero included; and the twin
// agrees with a float64 reference to the rounding of n additions.
func TestMaskedRowNorms(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	ns := make([]int, 0, 80)
	for n := 0; n <= 70; n++ {
		ns = append(ns, n)
	}
	ns = append(ns, 127, 1024, 1027, 1041)
	for _, isa := range paths(t) {
		onPath(isa, func() {
			for _, n := range ns {
				m := 1 + n%5
				off := n % 8
				ldh := n + n%3
				h := randMat(rng, m, n, ldh, off)
				for i := 0; i < m; i++ {
					maskedRow(rng, h[i*ldh:i*ldh+n], i == 2)
				}
				bw, w := guarded32(n, (off+5)%8)
				for j := range w {
					w[j] = float32(math.Ldexp(rng.NormFloat64(), rng.IntN(25)-12))
				}
				obuf, out := guarded64(3 * m)
				MaskedRowNorms(m, n, h, ldh, w, out)
				checkGuard64(t, obuf, 3*m)
				checkGuard32(t, bw, (off+5)%8, n)
				twin := make([]float64, 3*m)
				MaskedRowNormsGeneric(m, n, h, ldh, w, twin)
				hh := make([]float64, 1)
				dh := make([]float64, 1)
				for i := 0; i < m; i++ {
					row := h[i*ldh : i*ldh+n]
					d := append([]float32(nil), w...)
					ReLUMask(row, d)
					RowSumSquares(1, n, 1, row, n, hh)
					RowDots(1, n, d, n, row, n, dh)
					want := [3]float64{hh[0], Dot(d, d), dh[0]}
					for k := range want {
						if math.Float64bits(out[3*i+k]) != math.Float64bits(want[k]) {
							t.Fatalf("%s MaskedRowNorms m=%d n=%d row %d sum %d: %v, the unfused kernels %v", pathName(isa), m, n, i, k, out[3*i+k], want[k])
						}
					}
					r0, a0 := refDot(row, row)
					r1, a1 := refDot(d, d)
					r2, a2 := refDot(d, row)
					ref := [3][2]float64{{r0, a0}, {r1, a1}, {r2, a2}}
					for k, r := range ref {
						if e := math.Abs(twin[3*i+k] - r[0]); e > float64(n+4)*u64*r[1] {
							t.Fatalf("twin MaskedRowNorms n=%d row %d sum %d: %v, float64 reference %v", n, i, k, twin[3*i+k], r[0])
						}
						if e := math.Abs(out[3*i+k] - twin[3*i+k]); e > 2*float64(n+4)*u64*r[1] {
							t.Fatalf("%s MaskedRowNorms n=%d row %d sum %d: %v differs from twin %v", pathName(isa), n, i, k, out[3*i+k], twin[3*i+k])
						}
					}
					if i == 2 && (out[3*i] != 0 || out[3*i+1] != 0 || out[3*i+2] != 0) {
						t.Fatalf("%s MaskedRowNorms n=%d: a zero row gives %v", pathName(isa), n, out[3*i:3*i+3])
					}
				}
			}
		})
	}
}

// TestMaskedRowNormsNaN: NaN in h keeps w as ReLUMask does (Σ d² stays
// finite where w is), an infinite w under h = 0 is cleared (no 0·∞), and
// the sums that read the NaN are NaN, on every path.
func TestMaskedRowNormsNaN(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	for _, isa := range paths(t) {
		onPath(isa, func() {
			for _, n := range []int{1, 3, 5, 9, 19, 40} {
				h := make([]float32, n)
				w := make([]float32, n)
				for j := range h {
					h[j], w[j] = 1, 2
				}
				h[n-1] = nan
				if n > 1 {
					h[0], w[0] = 0, inf
				}
				out := make([]float64, 3)
				MaskedRowNorms(1, n, h, n, w, out)
				k := float64(n - 1)
				if n > 1 {
					k--
				}
				if !math.IsNaN(out[0]) || out[1] != 4*k+4 || !math.IsNaN(out[2]) {
					t.Fatalf("%s MaskedRowNorms n=%d with NaN h[%d]: %v, want [NaN %v NaN]", pathName(isa), n, n-1, out, 4*k+4)
				}
			}
		})
	}
}
