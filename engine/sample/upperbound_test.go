package sample

import (
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/ntklsh/ntklsh/engine/ntk"
)

// fakeScorer's Residuals returns score(k, i) for the k-th requested point
// i; its other passes are unused by the upper-bound sampler.
type fakeScorer struct{ score func(k, i int) float64 }

func (f fakeScorer) Residuals(_ []float32, ids []int, out []float64) {
	for k, i := range ids {
		out[k] = f.score(k, i)
	}
}
func (fakeScorer) GradNorms([]float32, []int, []float64) { panic("unused") }
func (fakeScorer) Losses([]float32, []int, []float64)    { panic("unused") }
func (fakeScorer) Linearized(*ntk.Linearization, []float32, []int, []float64) {
	panic("unused")
}

// constSource is a rand.Source that always returns v: with v = 0,
// IntN(power of two) is 0 and Float64 is exactly 0.
type constSource uint64

func (c constSource) Uint64() uint64 { return uint64(c) }

func newUB(n, k int, sc Scorer) *upperBoundSampler {
	s, err := New(UpperBound, Options{N: n, Scorer: sc, Presample: k, TauThreshold: 1.5})
	if err != nil {
		panic(err)
	}
	u := s.(*upperBoundSampler)
	u.SetTau(10) // importance sampling on
	return u
}

func checkWeights(t *testing.T, what string, w []float64) {
	t.Helper()
	for j, v := range w {
		if !(v > 0) || math.IsInf(v, 0) || v > math.MaxFloat32 {
			t.Errorf("%s: weight %d is %v, want finite, positive and below MaxFloat32 (the stepper scales float32 residuals by it)", what, j, v)
		}
	}
}

// TestUpperBoundNonFiniteScoreReported: one presampled point whose forward
// pass overflowed (residual +Inf or NaN) is not in the minibatch, so the
// minibatch loss is finite; before the fix it made the score sum Inf/NaN,
// every weight NaN (or +Inf) and τ NaN for the rest of the run. It must be
// reported as an error naming the point, and τ must stay as it was.
func TestUpperBoundNonFiniteScoreReported(t *testing.T) {
	for _, bad := range []float64{math.Inf(1), math.NaN()} {
		const badPos = 5
		var badPoint int
		s := newUB(1000, 3, fakeScorer{func(k, i int) float64 {
			if k == badPos {
				badPoint = i
				return bad
			}
			return 1 + float64(i%7)
		}})
		rng := rand.New(rand.NewPCG(1, 2))
		idx, w := make([]int, 4), make([]float64, 4)
		tau := s.Tau()
		err := s.Draw(rng, nil, idx, w)
		var nf *NonFiniteScoreError
		if !errors.As(err, &nf) {
			t.Fatalf("score %v: Draw returned %v and weights %v, want a NonFiniteScoreError", bad, err, w)
		}
		if nf.Point != badPoint {
			t.Errorf("score %v: error names point %d, want %d", bad, nf.Point, badPoint)
		}
		msg := err.Error()
		for _, want := range []string{"point " + strconv.Itoa(badPoint), "overflow", "diverged"} {
			if !strings.Contains(msg, want) {
				t.Errorf("error %q does not mention %q", msg, want)
			}
		}
		if s.Tau() != tau {
			t.Errorf("score %v: τ changed from %v to %v", bad, tau, s.Tau())
		}
	}
}

// TestUpperBoundTauStaysFinite: in the uniform phase a minibatch point with
// a non-finite residual (its loss is non-finite: the trainer reports the
// divergence) must not make τ NaN, and SetTau does not take NaN.
func TestUpperBoundTauStaysFinite(t *testing.T) {
	s := newUB(1000, 3, fakeScorer{func(k, i int) float64 {
		if k == 0 {
			return math.NaN()
		}
		return 1
	}})
	s.SetTau(0) // uniform phase
	rng := rand.New(rand.NewPCG(3, 4))
	idx, w := make([]int, 4), make([]float64, 4)
	if err := s.Draw(rng, nil, idx, w); err != nil {
		t.Fatal(err)
	}
	if math.IsNaN(s.Tau()) || math.IsInf(s.Tau(), 0) {
		t.Errorf("τ = %v after a NaN residual in a uniform step", s.Tau())
	}
	s.scorer = fakeScorer{func(k, i int) float64 { return math.Inf(1) }}
	if err := s.Draw(rng, nil, idx, w); err != nil {
		t.Fatal(err)
	}
	if math.IsNaN(s.Tau()) || math.IsInf(s.Tau(), 0) {
		t.Errorf("τ = %v after +Inf residuals in a uniform step", s.Tau())
	}
	s.SetTau(math.NaN())
	if math.IsNaN(s.Tau()) {
		t.Error("SetTau(NaN) took NaN")
	}
}

// TestUpperBoundZeroScoreNeverDrawn: u = Float64()·Σ = 0 used to select the
// first point even when its score is 0, giving it the weight +Inf.
func TestUpperBoundZeroScoreNeverDrawn(t *testing.T) {
	s := newUB(8, 2, fakeScorer{func(k, i int) float64 {
		if k < 3 {
			return 0
		}
		return 1
	}})
	rng := rand.New(constSource(0))
	idx, w := make([]int, 4), make([]float64, 4)
	if err := s.Draw(rng, nil, idx, w); err != nil {
		t.Fatal(err)
	}
	checkWeights(t, "u = 0", w)
}

// TestUpperBoundTinyScoreWeightBounded: a point whose residual is tiny
// relative to the others (f ≈ y to float32 precision) used to get a weight
// Σ/(kB·v) beyond float32's range, which the stepper turns into an
// infinite gradient although the loss is finite.
func TestUpperBoundTinyScoreWeightBounded(t *testing.T) {
	for _, tiny := range []float64{1e-45, 1e-30, 1e-12} {
		// The source's value makes Float64 land in the first point's
		// interval [0, tiny/Σ).
		s := newUB(8, 2, fakeScorer{func(k, i int) float64 {
			if k == 0 {
				return tiny
			}
			return 1e3
		}})
		rng := rand.New(constSource(0))
		idx, w := make([]int, 4), make([]float64, 4)
		if err := s.Draw(rng, nil, idx, w); err != nil {
			t.Fatal(err)
		}
		checkWeights(t, "tiny score", w)
	}
}

// TestUpperBoundWeightsUnbiased: the importance-weighted mean of a per-point
// quantity over one draw matches its mean over the whole presample (and so
// over the data set) within its confidence interval, for scores with zeros
// and tiny values (the floor changes p but not the expectation).
func TestUpperBoundWeightsUnbiased(t *testing.T) {
	if testing.Short() {
		t.Skip("Monte-Carlo test")
	}
	const n = 64
	g := make([]float64, n) // the "gradient" of point i: 0 where the score is 0
	sc := make([]float64, n)
	r := rand.New(rand.NewPCG(5, 6))
	for i := range g {
		switch i % 4 {
		case 0:
			sc[i] = 0
		case 1:
			sc[i] = 1e-20
		default:
			sc[i] = math.Abs(r.NormFloat64())
		}
		if sc[i] > 0 {
			g[i] = sc[i] * (1 + 0.5*r.NormFloat64())
		}
	}
	mean := 0.0
	for _, v := range g {
		mean += v / n
	}
	s := newUB(n, 4, fakeScorer{func(_, i int) float64 { return sc[i] }})
	const B, draws = 4, 200000
	idx, w := make([]int, B), make([]float64, B)
	var sum, sum2 float64
	for range draws {
		if err := s.Draw(r, nil, idx, w); err != nil {
			t.Fatal(err)
		}
		x := 0.0
		for j, i := range idx {
			x += w[j] * g[i] / B
		}
		sum += x
		sum2 += x * x
	}
	est := sum / draws
	se := math.Sqrt((sum2/draws - est*est) / draws)
	if math.Abs(est-mean) > 4.5*se {
		t.Errorf("weighted mean %v ± %v, true mean %v (%.1f s.e.)", est, se, mean, math.Abs(est-mean)/se)
	}
}
