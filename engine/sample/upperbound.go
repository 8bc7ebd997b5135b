package sample

import (
	"math/rand/v2"
	"sort"

	"github.com/ntklsh/ntklsh/engine/ntk"
)

// upperBoundSampler is Katharopoulos & Fleuret (2018), Algorithm 1: score a
// uniform presample of k·B points by the norm of ∂ℓ/∂f (an upper bound of
// the gradient norm up to a constant), and once the estimated variance
// reduction τ = kB·Σ g_j² (g the normalized scores) has an exponential
// moving average above τ_th, resample B of them ∝ score with weights
// 1/(kB·g_j); before that, train on B uniform points with weight 1.
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

func (s *upperBoundSampler) Refit(*ntk.Linearization) error { return nil }
func (s *upperBoundSampler) Tau() float64                   { return s.tau }
func (s *upperBoundSampler) SetTau(tau float64)             { s.tau = tau }

func (s *upperBoundSampler) Draw(rng *rand.Rand, params []float32, idx []int, w []float64) error {
	B := len(idx)
	k := s.presample
	kb := k * B
	if s.tau <= s.tauTh {
		// Uniform step; still score the batch to update τ (the paper scores
		// the uniform batch with the forward pass it needs anyway).
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
	total := s.updateTau(params, s.pre)
	if total <= 0 {
		for j := range idx {
			idx[j], w[j] = s.pre[j], 1
		}
		return nil
	}
	if cap(s.cum) < kb {
		s.cum = make([]float64, kb)
	}
	cum := s.cum[:kb]
	acc := 0.0
	for j, v := range s.scores[:kb] {
		acc += v
		cum[j] = acc
	}
	for j := range idx {
		u := rng.Float64() * acc
		m := sort.SearchFloat64s(cum, u)
		if m >= kb {
			m = kb - 1
		}
		g := s.scores[m] / acc
		idx[j], w[j] = s.pre[m], 1/(float64(kb)*g)
	}
	return nil
}

// updateTau scores the given points at params and updates the moving
// average of τ; it returns the sum of the scores.
func (s *upperBoundSampler) updateTau(params []float32, pts []int) float64 {
	if cap(s.scores) < len(pts) {
		s.scores = make([]float64, len(pts))
	}
	sc := s.scores[:len(pts)]
	s.scorer.Residuals(params, pts, sc)
	var sum, sum2 float64
	for _, v := range sc {
		sum += v
	}
	if sum > 0 {
		for _, v := range sc {
			g := v / sum
			sum2 += g * g
		}
		tau := float64(len(pts)) * sum2
		s.tau = 0.9*s.tau + 0.1*tau
	}
	return sum
}

func (s *upperBoundSampler) Probs([]float32, []int, []float64) (bool, error) { return false, nil }
