package lsh

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// Alias is a Walker/Vose alias table: O(1) draws of i with probability
// (1−ε)·w_i/Σw + ε/N for fixed weights w.
type Alias struct {
	prob []float64  // exact target probability of each index
	cols []aliasCol // the table
	work []int32    // Vose's small/large work lists
}

// aliasCol is column i of the table: keep i with probability thresh, else
// take alias. One struct, so that a draw reads one cache line of the table
// (with several 100 000-point tables in use a random column misses L2).
type aliasCol struct {
	thresh float64
	alias  int32
}

// NewAlias builds an alias table for weights mixed with uniform eps. It
// returns an error on no weights, more than MaxInt32 weights, a negative,
// NaN or infinite weight, or eps outside [0,1]. All-zero weights give the
// uniform distribution.
func NewAlias(weights []float64, eps float64) (*Alias, error) {
	a := &Alias{}
	if err := a.Reset(weights, eps); err != nil {
		return nil, err
	}
	return a, nil
}

// Reset rebuilds the table for new weights; it allocates only if there are
// more weights than ever before. On error a is unchanged.
func (a *Alias) Reset(weights []float64, eps float64) error {
	n := len(weights)
	if n == 0 {
		return errors.New("lsh: alias table needs at least one weight")
	}
	if n > math.MaxInt32 {
		return fmt.Errorf("lsh: %d weights, at most %d supported", n, math.MaxInt32)
	}
	if !(eps >= 0 && eps <= 1) {
		return fmt.Errorf("lsh: eps = %v outside [0,1]", eps)
	}
	wMax := 0.0
	for i, w := range weights {
		if !(w >= 0) || math.IsInf(w, 1) {
			return fmt.Errorf("lsh: weight %d is %v, want finite and ≥ 0", i, w)
		}
		wMax = max(wMax, w)
	}
	if cap(a.prob) < n {
		a.prob = make([]float64, n)
		a.cols = make([]aliasCol, n)
		a.work = make([]int32, n)
	}
	a.prob, a.cols, a.work = a.prob[:n], a.cols[:n], a.work[:n]

	uniform := 1 / float64(n)
	if wMax == 0 {
		for i := range a.prob {
			a.prob[i] = uniform
		}
	} else {
		// Scale by the maximum first so the sum cannot overflow.
		sum := 0.0
		for _, w := range weights {
			sum += w / wMax
		}
		scale := (1 - eps) / sum
		for i, w := range weights {
			a.prob[i] = (w/wMax)*scale + eps*uniform
		}
	}

	// Vose: small indices (scaled probability < 1) are pushed from the front
	// of work, large ones from the back.
	small, large := 0, n
	for i, p := range a.prob {
		a.cols[i] = aliasCol{thresh: p * float64(n), alias: int32(i)}
		if a.cols[i].thresh < 1 {
			a.work[small] = int32(i)
			small++
		} else {
			large--
			a.work[large] = int32(i)
		}
	}
	for small > 0 && large < n {
		small--
		s := a.work[small]
		g := a.work[large]
		large++
		a.cols[s].alias = g
		a.cols[g].thresh = (a.cols[g].thresh + a.cols[s].thresh) - 1
		if a.cols[g].thresh < 1 {
			a.work[small] = g
			small++
		} else {
			large--
			a.work[large] = g
		}
	}
	// Leftovers differ from 1 only by rounding.
	for _, i := range a.work[:small] {
		a.cols[i].thresh = 1
	}
	for _, i := range a.work[large:] {
		a.cols[i].thresh = 1
	}
	return nil
}

// Draw returns an index i drawn with probability Prob(i), and Prob(i).
func (a *Alias) Draw(r *rand.Rand) (i int, prob float64) {
	i = a.DrawIndex(r)
	return i, a.prob[i]
}

// DrawIndex is Draw without the probability (one memory access fewer).
func (a *Alias) DrawIndex(r *rand.Rand) int {
	i := r.IntN(len(a.cols))
	if c := a.cols[i]; r.Float64() >= c.thresh {
		i = int(c.alias)
	}
	return i
}

// Prob returns (1−ε)·w_i/Σw + ε/N (1/N for all-zero weights).
func (a *Alias) Prob(i int) float64 { return a.prob[i] }

// N returns the number of weights.
func (a *Alias) N() int { return len(a.prob) }
