package sample

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ntklsh/ntklsh/engine/ntk"
)

// upperBoundSampler is Katharopoulos & Fleuret (2018), Algorithm 1: score a
// uniform presample of k·B points by the norm of ∂ℓ/∂f (an upper bound of
// the gradient norm up to a constant), and once the estimated variance
// reduction τ = kB·Σ g_j² (g the normalized scores) has an exponential
// moving average above τ_th, resample B of them ∝ score with weights
// 1/(kB·g_j); before that, train on B uniform points with weight 1.
//
// Scores below scoreFloor times the presample's mean score are raised to
// it before resampling: the weights stay below about 1/scoreFloor (a
// point fitted to float32 precision would otherwise get a weight beyond
// float32's range, and the stepper's gradient would overflow), and since
// the weights use the raised scores the estimate stays unbiased. A
// presampled point whose score is not finite (its forward pass
// overflowed) is reported as a NonFiniteScoreError instead of turning
// every weight and τ into NaN.
type upperBoundSampler struct {
	n         int
	scorer    Scorer
	presample int
	tauTh     float64
	tau       float64
	pre       []int
	scores    []float64
	cum       []float64
	// active reports whether importance sampling was on at the last draw.
	active bool
}

// scoreFloor is the smallest resampling score relative to the presample's
// mean: it bounds the weights by about 1e9.
const scoreFloor = 1e-9

func (s *upperBoundSampler) Refit(*ntk.Linearization) error { return nil }
func (s *upperBoundSampler) Tau() float64                   { return s.tau }

// SetTau sets the moving average of τ (from a checkpoint); a non-finite
// value, which no run produces, resets it to 0.
func (s *upperBoundSampler) SetTau(tau float64) {
	if math.IsNaN(tau) || math.IsInf(tau, 0) {
		tau = 0
	}
	s.tau = tau
}

// NonFiniteScoreError reports a presampled point whose residual norm is
// not finite: its forward pass overflowed float32 (the model has diverged
// on it), although the minibatch, which need not contain it, may still
// have a finite loss.
type NonFiniteScoreError struct {
	Point int     // index of the point in the data set
	Score float64 // its residual norm |f_i − y_i|: +Inf or NaN
}

func (e *NonFiniteScoreError) Error() string {
	return fmt.Sprintf("upper-bound sampler: presampled point %d has residual norm %v: its forward pass overflowed float32 (the model has diverged on it)", e.Point, e.Score)
}

func (s *upperBoundSampler) Draw(rng *rand.Rand, params []float32, idx []int, w []float64) error {
	B := len(idx)
	k := s.presample
	kb := k * B
	if s.tau <= s.tauTh {
		// Uniform step; still score the batch to update τ (the paper scores
		// the uniform batch with the forward pass it needs anyway). A
		// non-finite score here is a minibatch point's: its loss is not
		// finite either, and the trainer reports the divergence.
		for j := range idx {
			idx[j] = rng.IntN(s.n)
			w[j] = 1
		}
		s.active = false
		s.updateTau(params, idx)
		return nil
	}
	s.active = true
	s.pre = resize(s.pre, kb)
	for j := range s.pre {
		s.pre[j] = rng.IntN(s.n)
	}
	total, bad := s.updateTau(params, s.pre)
	if bad >= 0 {
		return &NonFiniteScoreError{Point: s.pre[bad], Score: s.scores[bad]}
	}
	if total <= 0 {
		// Every residual is 0, and so is every gradient.
		for j := range idx {
			idx[j], w[j] = s.pre[j], 1
		}
		return nil
	}
	s.cum = resize(s.cum, kb)
	cum := s.cum
	sc := s.scores[:kb]
	floor := scoreFloor * total / float64(kb)
	acc := 0.0
	for j, v := range sc {
		acc += max(v, floor)
		cum[j] = acc
	}
	for j := range idx {
		// The first m with cum[m] > u, for u uniform in [0, acc): then
		// cum[m-1] ≤ u < cum[m], so point m has a positive share.
		u := rng.Float64() * acc
		lo, hi := 0, kb-1 // cum[kb-1] = acc > u unless u rounded up to acc
		for lo < hi {
			h := int(uint(lo+hi) >> 1)
			if cum[h] > u {
				hi = h
			} else {
				lo = h + 1
			}
		}
		g := max(sc[lo], floor) / acc
		idx[j], w[j] = s.pre[lo], 1/(float64(kb)*g)
	}
	return nil
}

// updateTau scores the given points at params and, when every score is
// finite, updates the moving average of τ. It returns the sum of the
// scores, and the position in pts of the first non-finite score (-1 when
// there is none; τ is then left as it was).
func (s *upperBoundSampler) updateTau(params []float32, pts []int) (sum float64, bad int) {
	s.scores = resize(s.scores, len(pts))
	sc := s.scores
	s.scorer.Residuals(params, pts, sc)
	for j, v := range sc {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return math.NaN(), j
		}
		sum += v
	}
	// sum is finite: each residual norm, from float32 values, is below
	// about 1e39·√Out.
	if sum > 0 {
		var sum2 float64
		for _, v := range sc {
			g := v / sum
			sum2 += g * g
		}
		tau := float64(len(pts)) * sum2
		s.tau = 0.9*s.tau + 0.1*tau
	}
	return sum, -1
}

func (s *upperBoundSampler) Probs([]float32, []int, []float64) (bool, error) { return false, nil }
