package engine

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/ntklsh/ntklsh/engine/lsh"
)

// Sampler names accepted by Config.Sampler.
const (
	SamplerUniform    = "uniform"
	SamplerLSH        = "lsh"
	SamplerNTKStatic  = "ntk-static"
	SamplerNTKExact   = "ntk-exact"
	SamplerTrue       = "true"
	SamplerUpperBound = "upper-bound"
	SamplerLoss       = "loss"
)

// SamplerHelp describes every sampler, for the CLI.
var SamplerHelp = map[string]string{
	SamplerUniform:    "plain SGD: uniform draws, weight 1",
	SamplerLSH:        "the paper's method: LSH tables over the NTK-linearized gradient vectors, O(1) draws with exact probabilities",
	SamplerNTKStatic:  "exact gradient norms at the last rehash (w0), O(1) draws from a Walker alias table",
	SamplerNTKExact:   "p ∝ linearized gradient magnitude |a_i|·|f_lin(x_i,w) − y_i| over all N each step (O(N·P)); isolates LSH error from NTK error",
	SamplerTrue:       "p ∝ exact per-sample gradient norm at the current w over all N each step (O(N·P)): the paper's true adaptive sampling",
	SamplerUpperBound: "Katharopoulos & Fleuret 2018: presample k·B uniformly, resample B ∝ |∂ℓ/∂f| when the estimated variance reduction τ passes τ_th",
	SamplerLoss:       "p ∝ per-sample loss at the current w over all N each step (O(N·P) forward)",
}

// SamplerNames lists the samplers in a stable order.
func SamplerNames() []string {
	return []string{SamplerUniform, SamplerLSH, SamplerNTKStatic, SamplerNTKExact, SamplerTrue, SamplerUpperBound, SamplerLoss}
}

func checkSampler(name string) error {
	if _, ok := SamplerHelp[name]; !ok {
		names := SamplerNames()
		sort.Strings(names)
		return fmt.Errorf("unknown sampler %q (want one of %s)", name, strings.Join(names, ", "))
	}
	return nil
}

// sampler draws minibatches. draw fills idx with indices and w with the
// importance weights 1/(N·p_i) (1 for uniform). probs sets out[k] to the
// probability that one draw at the current parameters picks subset[k]; it
// returns false when a sampler has no per-draw probability.
type sampler interface {
	needsLinearization() bool
	afterRehash(t *Trainer) error
	draw(t *Trainer, idx []int, w []float64) error
	probs(t *Trainer, subset []int, out []float64) bool
}

func newSampler(name string) sampler {
	switch name {
	case SamplerUniform:
		return uniformSampler{}
	case SamplerLSH:
		return &lshSampler{}
	case SamplerNTKStatic:
		return &aliasSampler{kind: SamplerNTKStatic}
	case SamplerNTKExact, SamplerTrue, SamplerLoss:
		return &aliasSampler{kind: name}
	case SamplerUpperBound:
		return &upperBoundSampler{}
	}
	panic("engine: unknown sampler " + name)
}

type uniformSampler struct{}

func (uniformSampler) needsLinearization() bool   { return false }
func (uniformSampler) afterRehash(*Trainer) error { return nil }
func (uniformSampler) draw(t *Trainer, idx []int, w []float64) error {
	for k := range idx {
		idx[k] = t.rng.IntN(t.n)
		w[k] = 1
	}
	return nil
}
func (uniformSampler) probs(t *Trainer, subset []int, out []float64) bool {
	for k := range subset {
		out[k] = 1 / float64(t.n)
	}
	return true
}

// aliasSampler draws from an alias table over per-point scores: the exact
// gradient norms at w0 (ntk-static, built once per rehash) or scores
// recomputed over all N at every step (ntk-exact, true, loss).
type aliasSampler struct {
	kind   string
	alias  *lsh.Alias
	scores []float64
}

func (s *aliasSampler) needsLinearization() bool {
	return s.kind == SamplerNTKStatic || s.kind == SamplerNTKExact
}

func (s *aliasSampler) reset(t *Trainer, scores []float64) error {
	for i, v := range scores {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("sampler %s: score of point %d is %v", s.kind, i, v)
		}
	}
	if s.alias == nil {
		a, err := lsh.NewAlias(scores, t.cfg.Eps)
		s.alias = a
		return err
	}
	return s.alias.Reset(scores, t.cfg.Eps)
}

func (s *aliasSampler) refresh(t *Trainer) error {
	if s.kind == SamplerNTKStatic {
		return nil
	}
	if len(s.scores) != t.n {
		s.scores = make([]float64, t.n)
	}
	switch s.kind {
	case SamplerTrue:
		t.perExample(passGradNorm, s.scores)
	case SamplerLoss:
		t.perExample(passLoss, s.scores)
	case SamplerNTKExact:
		t.perExample(passLinearized, s.scores)
		for i, v := range s.scores {
			s.scores[i] = math.Abs(v)
		}
	}
	return s.reset(t, s.scores)
}

func (s *aliasSampler) afterRehash(t *Trainer) error {
	if s.kind == SamplerNTKStatic {
		return s.reset(t, t.lin.GradNorm0)
	}
	return nil
}

func (s *aliasSampler) draw(t *Trainer, idx []int, w []float64) error {
	if err := s.refresh(t); err != nil {
		return err
	}
	n := float64(t.n)
	for k := range idx {
		i, p := s.alias.Draw(t.rng)
		idx[k], w[k] = i, 1/(n*p)
	}
	return nil
}

func (s *aliasSampler) probs(t *Trainer, subset []int, out []float64) bool {
	if err := s.refresh(t); err != nil {
		return false
	}
	for k, i := range subset {
		out[k] = s.alias.Prob(i)
	}
	return true
}

// lshSampler is the paper's sampler: one query hash per minibatch, then B
// draws from the tables, with the exact probability (or LGD's estimate).
type lshSampler struct {
	tables *lsh.Tables
	prep   lsh.Prepared
	query  []uint32
	proj   []float32
	delta  []float32
	s      *projScratch
	// LGD estimate scratch
	lgdIdx               []int
	lgdBucket, lgdProbes []int
	lgdCos               []float64
	lgdFromUniform       []bool
}

func (s *lshSampler) needsLinearization() bool { return true }

func (s *lshSampler) afterRehash(t *Trainer) error {
	h := t.hasher
	var err error
	if s.tables == nil {
		s.tables, err = lsh.Build(t.lin.Codes, t.n, h.Cfg.K, h.Cfg.L)
		s.query = make([]uint32, h.Cfg.L)
		s.proj = make([]float32, h.kl)
		s.delta = make([]float32, t.m.NumParams())
		s.s = h.newScratch(t.m, 1)
	} else {
		err = s.tables.Rebuild(t.lin.Codes)
	}
	return err
}

func (s *lshSampler) prepare(t *Trainer) error {
	if t.Device != nil {
		if err := t.Device.Query(t.hasher, t.lin.W0, s.proj); err != nil {
			return fmt.Errorf("device query: %w", err)
		}
		t.hasher.FinishQuery(t.be, s.proj, s.query)
	} else {
		t.hasher.QueryCodes(t.be, t.m.Params, t.lin.W0, s.delta, s.proj, s.s, s.query)
	}
	t.tables = s.tables
	s.tables.Prepare(&s.prep, s.query, t.cfg.Eps, t.hasher.Cfg.SignSymmetric)
	t.lastNonEmpty = s.prep.NonEmpty()
	return nil
}

func (s *lshSampler) draw(t *Trainer, idx []int, w []float64) error {
	if err := s.prepare(t); err != nil {
		return err
	}
	n := float64(t.n)
	if t.cfg.Prob != ProbLGD {
		// DrawN draws the whole minibatch first, then reads the drawn
		// points' codes together, which overlaps their cache misses.
		s.prep.DrawN(t.rng, idx, w)
		for k, p := range w {
			w[k] = 1 / (n * p)
		}
		return nil
	}
	// LGD (Chen et al. 2019): probe (table, sign) in random order until a
	// non-empty bucket; estimate p = cp^K (1−cp^K)^(probes−1) / |bucket|
	// with cp = 1 − θ/π the SRP collision probability of the angle between
	// query and data vector. Biased: the estimate is not the probability
	// of the draw.
	eps := t.cfg.Eps
	B := len(idx)
	s.lgdBucket = resize(s.lgdBucket, B)
	s.lgdProbes = resize(s.lgdProbes, B)
	for k := range idx {
		if t.rng.Float64() < eps {
			idx[k], s.lgdBucket[k], s.lgdProbes[k] = t.rng.IntN(t.n), 0, 0
			continue
		}
		idx[k], s.lgdBucket[k], s.lgdProbes[k] = s.prep.DrawLGD(t.rng)
	}
	s.lgdCos = resize(s.lgdCos, B)
	cos := s.lgdCos
	t.linearizedCosines(idx, cos)
	K := float64(t.hasher.Cfg.K)
	for k, i := range idx {
		var p float64
		if s.lgdBucket[k] > 0 {
			c := cos[k]
			if !s.matchesQuery(i) {
				c = -c
			}
			cp := 1 - math.Acos(math.Max(-1, math.Min(1, c)))/math.Pi
			pk := math.Pow(cp, K)
			p = pk * math.Pow(1-pk, float64(s.lgdProbes[k]-1)) / float64(s.lgdBucket[k])
		}
		p = (1-eps)*p + eps/n
		w[k] = 1 / (n * p)
	}
	return nil
}

// matchesQuery says whether point i shares a bucket with +q in some table
// (else it was drawn from a −q bucket).
func (s *lshSampler) matchesQuery(i int) bool {
	for tb, q := range s.query {
		if s.tables.Code(i, tb) == q {
			return true
		}
	}
	return false
}

func (s *lshSampler) probs(t *Trainer, subset []int, out []float64) bool {
	if s.prepare(t) != nil {
		return false
	}
	for k, i := range subset {
		out[k] = s.prep.Prob(i)
	}
	return true
}

// resize returns v with length n, reallocating only when its capacity is
// short (the contents are not kept then).
func resize[T any](v []T, n int) []T {
	if cap(v) < n {
		return make([]T, n)
	}
	return v[:n]
}

// upperBoundSampler is Katharopoulos & Fleuret (2018), Algorithm 1: score a
// uniform presample of k·B points by the norm of ∂ℓ/∂f (an upper bound of
// the gradient norm up to a constant), and once the estimated variance
// reduction τ = kB·Σ g_j² (g the normalized scores) has an exponential
// moving average above τ_th, resample B of them ∝ score with weights
// 1/(kB·g_j); before that, train on B uniform points with weight 1.
type upperBoundSampler struct {
	tau    float64
	pre    []int
	scores []float64
	cum    []float64
	// Active reports whether importance sampling was on at the last draw.
	active bool
}

func (s *upperBoundSampler) needsLinearization() bool   { return false }
func (s *upperBoundSampler) afterRehash(*Trainer) error { return nil }

func (s *upperBoundSampler) draw(t *Trainer, idx []int, w []float64) error {
	B := len(idx)
	k := t.cfg.Presample
	kb := k * B
	if s.tau <= t.cfg.TauThreshold {
		// Uniform step; still score the batch to update τ (the paper scores
		// the uniform batch with the forward pass it needs anyway).
		for j := range idx {
			idx[j] = t.rng.IntN(t.n)
			w[j] = 1
		}
		s.active = false
		s.updateTau(t, idx)
		return nil
	}
	s.active = true
	s.pre = resize(s.pre, kb)
	for j := range s.pre {
		s.pre[j] = t.rng.IntN(t.n)
	}
	total := s.updateTau(t, s.pre)
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
		u := t.rng.Float64() * acc
		m := sort.SearchFloat64s(cum, u)
		if m >= kb {
			m = kb - 1
		}
		g := s.scores[m] / acc
		idx[j], w[j] = s.pre[m], 1/(float64(kb)*g)
	}
	return nil
}

// updateTau scores the given points at the current parameters and updates
// the moving average of τ; it returns the sum of the scores.
func (s *upperBoundSampler) updateTau(t *Trainer, pts []int) float64 {
	if cap(s.scores) < len(pts) {
		s.scores = make([]float64, len(pts))
	}
	sc := s.scores[:len(pts)]
	t.residualNorms(pts, sc)
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

func (s *upperBoundSampler) probs(*Trainer, []int, []float64) bool { return false }
