package engine

import "math"

// diagnostics computes the second-moment ratio, its ideal value and
// KL(p*‖p) on the fixed subset.
func (t *Trainer) diagnostics() (ratio, ideal, kl float64) {
	n := len(t.diag)
	if n == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	g := make([]float64, n)
	t.passes.GradNorms(t.m.Params, t.diag, g)
	p := make([]float64, n)
	if ok, err := t.samp.Probs(t.m.Params, t.diag, p); !ok || err != nil {
		ratio, kl = math.NaN(), math.NaN()
		p = nil
	}
	return SecondMomentRatio(g, p, t.n)
}

// SecondMomentRatio returns, for gradient norms g on a uniform subset of a
// data set of N points and the sampler's probabilities p of those points,
// Σ g²/p ÷ (N Σ g²) — the second moment of the one-draw importance-weighted
// gradient estimator relative to uniform's — its value for p ∝ g, and
// KL(p*‖p) with both renormalized on the subset. p may be nil.
func SecondMomentRatio(g, p []float64, N int) (ratio, ideal, kl float64) {
	var sg, sg2, sgp, sp float64
	for i, v := range g {
		sg += v
		sg2 += v * v
		if p != nil {
			sgp += v * v / p[i]
			sp += p[i]
		}
	}
	if sg2 == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	ideal = sg * sg / (float64(len(g)) * sg2)
	if p == nil {
		return math.NaN(), ideal, math.NaN()
	}
	ratio = sgp / (float64(N) * sg2)
	for i, v := range g {
		if v > 0 {
			ps := v / sg
			kl += ps * math.Log(ps/(p[i]/sp))
		}
	}
	return ratio, ideal, kl
}
