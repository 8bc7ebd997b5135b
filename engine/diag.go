package engine

import (
	"math"
)

// The diagnostics estimate, from the exact gradient norms g_i of
// Config.DiagSubset points, whole-set quantities: the second-moment ratio
// Σ_i g_i²/p_i ÷ (N Σ_i g_i²), its ideal value (Σ g_i)²/(N Σ g_i²) and
// KL(p*‖p). A uniform subset misses the rare points with huge gradients
// of heavy-tailed data, which dominate both sums: on teacher data with
// Student-t(2) inputs (N = 50 000, 1000 points) its ratio for the
// ntk-static and lsh samplers was 10 to 100 times the whole set's on
// average (TestDiagSubsetMeasurement). So the subset is stratified: the
// half with the largest cheap proxy of the gradient norm,
// |f_i − y_i|·√(1+|x_i|²) (one forward pass over the data), is taken
// whole (weight 1), and the other half is a uniform sample of the rest,
// each point standing for (N−m)/(n−m) of them (the Horvitz–Thompson
// weights that keep every sum unbiased). The uniform half comes from a
// permutation fixed by the seed, so the diagnostics are deterministic.

// diagnostics computes the second-moment ratio, its ideal value and
// KL(p*‖p) from the diagnostics subset. In a data-parallel run (SetParallel)
// each rank takes its subset of its shard, and the quantities are those of
// the global estimator from the sums over every rank's points: the global
// probability of point i of rank r is Share·p_r(i), N the global count
// (collective; an error only from the reductions).
func (t *Trainer) diagnostics() (ratio, ideal, kl float64, err error) {
	if t.diagSize == 0 {
		return math.NaN(), math.NaN(), math.NaN(), nil
	}
	ids, wt := t.diagSubset()
	n := len(ids)
	g := make([]float64, n)
	t.passes.GradNorms(t.m.Params, ids, g)
	p := make([]float64, n)
	if ok, err := t.activeSampler().Probs(t.m.Params, ids, p); !ok || err != nil {
		p = nil
	}
	par := t.par
	if par == nil {
		ratio, ideal, kl = WeightedSecondMomentRatio(g, p, wt, t.n)
		return ratio, ideal, kl, nil
	}
	if p != nil {
		for k := range p {
			p[k] *= par.Share
		}
	}
	s := momentSumsOf(g, p, wt)
	v := s.vector()
	if err := par.AllreduceSum64(v); err != nil {
		return math.NaN(), math.NaN(), math.NaN(), err
	}
	s = momentSumsFrom(v)
	ratio, ideal = s.ratios(par.N)
	if s.withP {
		v[0] = klSum(g, p, wt, s.sg, s.sp)
		if err := par.AllreduceSum64(v[:1]); err != nil {
			return math.NaN(), math.NaN(), math.NaN(), err
		}
		kl = v[0]
	}
	if math.IsNaN(ideal) {
		kl = math.NaN()
	}
	return ratio, ideal, kl, nil
}

// diagSubset returns the points of the diagnostics and their weights (nil:
// all 1, when the subset is the whole set).
func (t *Trainer) diagSubset() (ids []int, wt []float64) {
	N, n := t.n, t.diagSize
	if n >= N {
		return t.diagPerm, nil
	}
	if t.diagXNorm == nil {
		t.diagXNorm = make([]float64, N)
		in := t.m.In
		for i := range t.diagXNorm {
			var s float64
			for _, v := range t.x[i*in : (i+1)*in] {
				s += float64(v) * float64(v)
			}
			t.diagXNorm[i] = math.Sqrt(1 + s)
		}
	}
	q := make([]float64, N)
	t.passes.Residuals(t.m.Params, nil, q)
	for i, v := range q {
		q[i] = v * t.diagXNorm[i]
		if math.IsNaN(q[i]) {
			q[i] = math.Inf(1) // the model overflowed on it: keep it
		}
	}
	m := n / 2
	ids = make([]int, 0, n)
	ids = append(ids, topK(q, m)...)
	in := make([]bool, N)
	for _, i := range ids {
		in[i] = true
	}
	for _, i := range t.diagPerm {
		if len(ids) == n {
			break
		}
		if !in[i] {
			ids = append(ids, i)
		}
	}
	wt = make([]float64, n)
	rest := float64(N-m) / float64(n-m)
	for k := range wt {
		if k < m {
			wt[k] = 1
		} else {
			wt[k] = rest
		}
	}
	return ids, wt
}

// topK returns the indices of the k largest values of q (ties: the lower
// index first), largest first.
func topK(q []float64, k int) []int {
	if k <= 0 {
		return nil
	}
	// less orders by value, then by index reversed: the heap's root is
	// the smallest kept value (the highest index among equals).
	less := func(a, b int) bool { return q[a] < q[b] || q[a] == q[b] && a > b }
	h := make([]int, 0, k)
	down := func(j int) {
		for {
			c := 2*j + 1
			if c >= len(h) {
				return
			}
			if c+1 < len(h) && less(h[c+1], h[c]) {
				c++
			}
			if !less(h[c], h[j]) {
				return
			}
			h[j], h[c] = h[c], h[j]
			j = c
		}
	}
	for i := range q {
		if len(h) < k {
			h = append(h, i)
			for j := len(h) - 1; j > 0; {
				p := (j - 1) / 2
				if !less(h[j], h[p]) {
					break
				}
				h[j], h[p] = h[p], h[j]
				j = p
			}
			continue
		}
		if less(h[0], i) {
			h[0] = i
			down(0)
		}
	}
	// Pop the heap: smallest first into the end.
	out := make([]int, len(h))
	for j := len(h) - 1; j >= 0; j-- {
		out[j] = h[0]
		h[0] = h[len(h)-1]
		h = h[:len(h)-1]
		down(0)
	}
	return out
}

// SecondMomentRatio returns, for gradient norms g on a uniform subset of a
// data set of N points and the sampler's probabilities p of those points,
// Σ g²/p ÷ (N Σ g²) — the second moment of the one-draw importance-weighted
// gradient estimator relative to uniform's — its value for p ∝ g, and
// KL(p*‖p) with both renormalized on the subset. p may be nil.
func SecondMomentRatio(g, p []float64, N int) (ratio, ideal, kl float64) {
	return WeightedSecondMomentRatio(g, p, nil, N)
}

// WeightedSecondMomentRatio is SecondMomentRatio for a subset whose point
// k stands for wt[k] points of the data set (its Horvitz–Thompson weight,
// the inverse of its inclusion probability; wt nil: all 1): every sum over
// the data set is estimated by Σ_k wt[k]·(term of point k).
func WeightedSecondMomentRatio(g, p, wt []float64, N int) (ratio, ideal, kl float64) {
	s := momentSumsOf(g, p, wt)
	ratio, ideal = s.ratios(N)
	if s.withP && !math.IsNaN(ideal) {
		kl = klSum(g, p, wt, s.sg, s.sp)
	} else {
		kl = math.NaN()
	}
	return ratio, ideal, kl
}

// momentSums are the sums of WeightedSecondMomentRatio over a subset:
// Σ wt, Σ wt·g, Σ wt·g², Σ wt·g²/p and Σ wt·p (the last two when withP).
// The sums of several subsets (one per rank of a data-parallel run) are
// the sums of their union.
type momentSums struct {
	sw, sg, sg2, sgp, sp float64
	withP                bool
}

func momentSumsOf(g, p, wt []float64) momentSums {
	var s momentSums
	for i, v := range g {
		w := 1.0
		if wt != nil {
			w = wt[i]
		}
		s.sw += w
		s.sg += w * v
		s.sg2 += w * v * v
		if p != nil {
			s.sgp += w * v * v / p[i]
			s.sp += w * p[i]
		}
	}
	s.withP = p != nil
	return s
}

// vector and momentSumsFrom pack the sums for an all-reduce; the last
// element counts the subsets without probabilities (any makes the union's
// ratio and KL unknown).
func (s momentSums) vector() []float64 {
	noP := 1.0
	if s.withP {
		noP = 0
	}
	return []float64{s.sw, s.sg, s.sg2, s.sgp, s.sp, noP}
}

func momentSumsFrom(v []float64) momentSums {
	return momentSums{sw: v[0], sg: v[1], sg2: v[2], sgp: v[3], sp: v[4], withP: v[5] == 0}
}

// ratios returns the second-moment ratio Σg²/p ÷ (N Σg²) (NaN without
// probabilities) and its ideal value (Σg)²/(Σwt·Σg²) (NaN, with the
// ratio, when every g is 0).
func (s momentSums) ratios(N int) (ratio, ideal float64) {
	if s.sg2 == 0 {
		return math.NaN(), math.NaN()
	}
	ideal = s.sg * s.sg / (s.sw * s.sg2)
	if !s.withP {
		return math.NaN(), ideal
	}
	return s.sgp / (float64(N) * s.sg2), ideal
}

// klSum is this subset's part of KL(p*‖p), p* = g/sg and p renormalized
// by sp, with sg and sp the sums over the whole (union of) subsets.
func klSum(g, p, wt []float64, sg, sp float64) (kl float64) {
	for i, v := range g {
		if v > 0 {
			w := 1.0
			if wt != nil {
				w = wt[i]
			}
			ps := v / sg
			kl += w * ps * math.Log(ps/(p[i]/sp))
		}
	}
	return kl
}
