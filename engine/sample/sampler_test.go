package sample

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/engine/ntk"
	"github.com/ntklsh/ntklsh/kernels"
)

// TestProbsSumToOne: every sampler with per-draw probabilities gives a
// distribution over the data set, fed by a linearization and a Scorer
// alone (no trainer), and each draw's weight is 1/(N·p) of its point.
func TestProbsSumToOne(t *testing.T) {
	be := kernels.Generic
	m, _ := nn.New(nn.Config{In: 3, Out: 1, Hidden: []int{5}, Activation: nn.Tanh, Seed: 1})
	n := 90
	rng := rand.New(rand.NewPCG(1, 2))
	x, y := make([]float32, n*3), make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	for i := range y {
		y[i] = float32(rng.NormFloat64())
	}
	passes := ntk.NewPasses(be, m, x, y, n, 32, 2)
	h, err := ntk.NewHasher(m, ntk.HashConfig{K: 3, L: 6, MIPS: true, Query: ntk.QueryRecentred, Alpha: 0.1, SignSymmetric: true, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	lin := ntk.Rehash(be, m, x, y, n, h, ntk.RehashOptions{Batch: 32, Workers: 2}, nil)
	params := append([]float32(nil), m.Params...)
	for i := range params {
		params[i] += 0.05
	}
	ids := make([]int, n)
	for i := range ids {
		ids[i] = i
	}
	for _, name := range Names() {
		s, err := New(name, Options{N: n, Eps: 0.1, Prob: ProbExact, Backend: be, Model: m, Hasher: h, Scorer: passes, Presample: 2, TauThreshold: 1.5})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Refit(lin); err != nil {
			t.Fatal(err)
		}
		p := make([]float64, n)
		ok, err := s.Probs(params, ids, p)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			if name != UpperBound {
				t.Errorf("%s: no probabilities", name)
			}
			continue
		}
		var sum float64
		for _, v := range p {
			sum += v
		}
		if math.Abs(sum-1) > 1e-9 {
			t.Errorf("%s: probabilities sum to %g", name, sum)
		}
		idx, w := make([]int, 8), make([]float64, 8)
		if err := s.Draw(rng, params, idx, w); err != nil {
			t.Fatal(err)
		}
		for k, i := range idx {
			if want := 1 / (float64(n) * p[i]); math.Abs(w[k]-want) > 1e-9*want {
				t.Errorf("%s: weight %g of point %d, want 1/(N·p) = %g", name, w[k], i, want)
			}
		}
	}
}
