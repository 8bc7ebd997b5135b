package sample

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ntklsh/ntklsh/asm"
	"github.com/ntklsh/ntklsh/engine/lsh"
	"github.com/ntklsh/ntklsh/engine/ntk"
)

// DefaultDriftLambda is the ntk-drift sampler's λ when Options.Lambda is 0:
// the typical |cos(a_i, w − w0)| that turns the Cauchy–Schwarz bound
// |a_i·(w − w0)| ≤ |a_i||w − w0| into an estimate (0.01–0.03 helped at every
// step count in the prototype, docs/WALLCLOCK.md).
const DefaultDriftLambda = 0.02

// driftGrid is the grid of λ the auto mode chooses from at each refit.
var driftGrid = []float64{0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.5, 1}

// driftSampler is ntk-drift: the drift-bound mixture
//
//	p_i = (1−ε)·(s1_i + λ|w−w0|·s2_i)/(m1 + λ|w−w0|·m2) + ε/N,
//
// s1_i = |∇ℓ_i(w0)| (|a_i||r0_i| for one output), s2_i = |a_i|², m1 = Σ s1,
// m2 = Σ s2: two static alias tables mixed by their masses and |w − w0|.
// Draws are O(1) after an O(P) norm per minibatch, and the probabilities are
// exact, so the weights 1/(N·p_i) are unbiased.
type driftSampler struct {
	n      int
	eps    float64
	lambda float64 // current λ
	auto   bool    // refit λ at each refit from the last period's drift

	lin    *ntk.Linearization
	t1, t2 *lsh.Alias // eps = 0: q1_i = s1_i/m1, q2_i = s2_i/m2
	m1, m2 float64
	s2     []float64
	// mix is the weight of table 2 at the last prepare.
	mix float64
	// q[i] = (q1_i, q2_i), the two tables' probabilities.
	q [][2]float64

	// The previous period's w0, for the auto mode.
	prevW0   []float32
	havePrev bool
}

func newDrift(o Options) *driftSampler {
	s := &driftSampler{n: o.N, eps: o.Eps, lambda: o.Lambda}
	if o.Lambda < 0 {
		s.auto, s.lambda = true, DefaultDriftLambda
	} else if o.Lambda == 0 {
		s.lambda = DefaultDriftLambda
	}
	return s
}

func (s *driftSampler) NeedsLinearization() bool { return true }

// Lambda returns the λ in use (fitted by the auto mode).
func (s *driftSampler) Lambda() float64 { return s.lambda }

// SetLambda sets λ (a resumed run's); it must be finite and ≥ 0.
func (s *driftSampler) SetLambda(l float64) {
	if !(l >= 0) || math.IsInf(l, 0) {
		panic("sample: ntk-drift λ must be finite and ≥ 0")
	}
	s.lambda = l
}

func (s *driftSampler) Refit(lin *ntk.Linearization) error {
	if lin.N != s.n {
		return fmt.Errorf("sampler ntk-drift: linearization of %d points, want %d", lin.N, s.n)
	}
	s.s2 = resize(s.s2, s.n)
	for i, a := range lin.ANorm {
		s.s2[i] = a * a
		if math.IsNaN(s.s2[i]) || math.IsInf(s.s2[i], 0) {
			return fmt.Errorf("sampler ntk-drift: |a_%d|² is %v", i, s.s2[i])
		}
	}
	for i, g := range lin.GradNorm0 {
		if math.IsNaN(g) || math.IsInf(g, 0) {
			return fmt.Errorf("sampler ntk-drift: gradient norm of point %d is %v", i, g)
		}
	}
	if s.auto && s.havePrev {
		s.lambda = s.fitLambda(lin)
	}
	m1, m2 := 0.0, 0.0
	for i := range s.s2 {
		m1 += lin.GradNorm0[i]
		m2 += s.s2[i]
	}
	var err error
	if s.t1 == nil {
		if s.t1, err = lsh.NewAlias(lin.GradNorm0, 0); err == nil {
			s.t2, err = lsh.NewAlias(s.s2, 0)
		}
	} else if err = s.t1.Reset(lin.GradNorm0, 0); err == nil {
		err = s.t2.Reset(s.s2, 0)
	}
	if err != nil {
		return fmt.Errorf("sampler ntk-drift: %w", err)
	}
	s.lin, s.m1, s.m2 = lin, m1, m2
	// The two tables' probabilities of each point side by side: a weight
	// reads one cache line.
	if cap(s.q) < s.n {
		s.q = make([][2]float64, s.n)
	}
	s.q = s.q[:s.n]
	for i := range s.q {
		s.q[i] = [2]float64{s.t1.Prob(i), s.t2.Prob(i)}
	}
	if s.auto {
		// Keep this period's w0 (lin is reused in place by the next
		// rehash); its distributions and masses stay in q, m1 and m2 until
		// the next Refit has fitted λ.
		s.prevW0 = append(s.prevW0[:0], lin.W0...)
		s.havePrev = true
	}
	return nil
}

// fitLambda chooses λ on a grid to minimize the second moment Σ g_i²/p_i
// that the last period's mixture (q, m1, m2, not yet replaced) would have
// had at the new rehash point w1, with g_i the exact gradient norms there:
// the drift observed over a whole period, at no cost beyond O(N) per grid
// point.
func (s *driftSampler) fitLambda(lin *ntk.Linearization) float64 {
	dw := math.Sqrt(distSq(lin.W0, s.prevW0))
	best, bestV := s.lambda, math.Inf(1)
	n := float64(s.n)
	for _, lam := range driftGrid {
		c := lam * dw
		den := s.m1 + c*s.m2
		if !(den > 0) {
			continue
		}
		a1, a2 := (1-s.eps)*s.m1/den, (1-s.eps)*c*s.m2/den
		var v float64
		for i, g := range lin.GradNorm0 {
			p := a1*s.q[i][0] + a2*s.q[i][1] + s.eps/n
			if p > 0 {
				v += g * g / p
			} else if g > 0 {
				v = math.Inf(1)
				break
			}
		}
		if v < bestV {
			best, bestV = lam, v
		}
	}
	return best
}

// prepare sets the mixture weight of table 2 at params.
func (s *driftSampler) prepare(params []float32) error {
	if s.lin == nil {
		return errors.New("sampler ntk-drift: no linearization yet")
	}
	c := s.lambda * math.Sqrt(distSq(params, s.lin.W0))
	den := s.m1 + c*s.m2
	switch {
	case math.IsNaN(den) || math.IsInf(den, 0):
		return fmt.Errorf("sampler ntk-drift: mixture mass %v", den)
	case den == 0:
		s.mix = -1 // all scores zero: uniform
	default:
		s.mix = c * s.m2 / den
	}
	return nil
}

// prob is p_i at the last prepare.
func (s *driftSampler) prob(i int) float64 {
	n := float64(s.n)
	if s.mix < 0 {
		return 1 / n
	}
	q := s.q[i]
	return (1-s.eps)*((1-s.mix)*q[0]+s.mix*q[1]) + s.eps/n
}

func (s *driftSampler) Draw(rng *rand.Rand, params []float32, idx []int, w []float64) error {
	if err := s.prepare(params); err != nil {
		return err
	}
	n := float64(s.n)
	for k := range idx {
		var i int
		switch u := rng.Float64(); {
		case s.mix < 0 || u < s.eps:
			i = rng.IntN(s.n)
		case u < s.eps+(1-s.eps)*s.mix:
			i = s.t2.DrawIndex(rng)
		default:
			i = s.t1.DrawIndex(rng)
		}
		idx[k], w[k] = i, 1/(n*s.prob(i))
	}
	return nil
}

func (s *driftSampler) Probs(params []float32, ids []int, out []float64) (bool, error) {
	if err := s.prepare(params); err != nil {
		return false, err
	}
	for k, i := range ids {
		out[k] = s.prob(i)
	}
	return true, nil
}

// distSq returns |a − b|² (the O(P) per minibatch of ntk-drift): the
// difference in float32 (as the parameters are), squared and summed in
// float64 in one vector pass (asm.SqDist; a scalar loop of dependent float64
// additions cost about 3× as much, a copy, an Axpy and a Dot 2–3×).
func distSq(a, b []float32) float64 { return asm.SqDist(a, b[:len(a)]) }
