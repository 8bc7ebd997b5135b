package lsh

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// chiSquareP returns the p-value of Pearson's goodness-of-fit test of counts
// (from draws draws) against probabilities want. Cells with expected count
// below 5 are pooled into one cell; a draw from a cell with want = 0 gives
// p = 0. want is renormalised, so a wrong but positive model is compared as a
// distribution.
func chiSquareP(t *testing.T, counts []int, want []float64) float64 {
	t.Helper()
	if len(counts) != len(want) {
		t.Fatalf("chiSquareP: %d counts, %d probabilities", len(counts), len(want))
	}
	draws, total := 0, 0.0
	for i, c := range counts {
		draws += c
		total += want[i]
	}
	stat, cells := 0.0, 0
	pooledObs, pooledExp := 0.0, 0.0
	for i, c := range counts {
		exp := want[i] / total * float64(draws)
		switch {
		case exp == 0 && c > 0:
			return 0
		case exp == 0:
		case exp < 5:
			pooledObs += float64(c)
			pooledExp += exp
		default:
			d := float64(c) - exp
			stat += d * d / exp
			cells++
		}
	}
	if pooledExp > 0 {
		d := pooledObs - pooledExp
		stat += d * d / pooledExp
		cells++
	}
	if cells < 2 {
		return 1
	}
	return distuv.ChiSquared{K: float64(cells - 1)}.Survival(stat)
}

// TestChiSquarePDetects checks the helper itself on a known case: uniform
// draws pass against uniform and fail against a model with one cell 25 % heavier.
func TestChiSquarePDetects(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const n, draws = 20, 100000
	counts := make([]int, n)
	for range draws {
		counts[r.IntN(n)]++
	}
	uniform := make([]float64, n)
	skewed := make([]float64, n)
	for i := range uniform {
		uniform[i] = 1
		skewed[i] = 1
	}
	skewed[0] = 1.25
	if p := chiSquareP(t, counts, uniform); p < 1e-4 {
		t.Errorf("uniform draws vs uniform: p = %g", p)
	}
	if p := chiSquareP(t, counts, skewed); p > 1e-4 {
		t.Errorf("uniform draws vs skewed model: p = %g, want tiny", p)
	}
	zeroCell := append([]float64(nil), uniform...)
	zeroCell[3] = 0
	if p := chiSquareP(t, counts, zeroCell); p != 0 {
		t.Errorf("draws from a zero-probability cell: p = %g, want 0", p)
	}
	if math.IsNaN(chiSquareP(t, counts, uniform)) {
		t.Error("NaN p-value")
	}
}
