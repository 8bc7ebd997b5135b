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
	prob   []float64 // exact target probability of each index
	thresh []float64 // keep column i with probability thresh[i]
	alias  []int32   // else take alias[i]
	work   []int32   // Vose's small/large work lists
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
		a.thresh = make([]float64, n)
		a.alias = make([]int32, n)
		a.work = make([]int32, n)
	}
	a.prob, a.thresh, a.alias, a.work = a.prob[:n], a.thresh[:n], a.alias[:n], a.work[:n]

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
		a.thresh[i] = p * float64(n)
		a.alias[i] = int32(i)
		if a.thresh[i] < 1 {
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
		a.alias[s] = g
		a.thresh[g] = (a.thresh[g] + a.thresh[s]) - 1
		if a.thresh[g] < 1 {
			a.work[small] = g
			small++
		} else {
			large--
			a.work[large] = g
		}
	}
	// Leftovers differ from 1 only by rounding.
	for _, i := range a.work[:small] {
		a.thresh[i] = 1
	}
	for _, i := range a.work[large:] {
		a.thresh[i] = 1
	}
	return nil
}

// Draw returns an index i drawn with probability Prob(i), and Prob(i).
func (a *Alias) Draw(r *rand.Rand) (i int, prob float64) {
	i = r.IntN(len(a.thresh))
	if r.Float64() >= a.thresh[i] {
		i = int(a.alias[i])
	}
	return i, a.prob[i]
}

// Prob returns (1−ε)·w_i/Σw + ε/N (1/N for all-zero weights).
func (a *Alias) Prob(i int) float64 { return a.prob[i] }

// N returns the number of weights.
func (a *Alias) N() int { return len(a.prob) }
