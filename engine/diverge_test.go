package engine

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/engine/ntk"
	"github.com/ntklsh/ntklsh/engine/sample"
)

// TestUpperBoundOverflowingPointReported: one extreme input point makes
// the model's forward pass overflow float32 on it. Before the fix, once
// that point was in the upper-bound sampler's presample (but not in the
// minibatch), its residual +Inf/NaN made every importance weight NaN and
// the run diverged with a NaN weight and no hint of the cause; now the
// run stops with a DivergedError that names the point.
func TestUpperBoundOverflowingPointReported(t *testing.T) {
	ds := smallTeacher(200, 3, 1, 5)
	const bad = 7
	for j := 0; j < ds.D; j++ {
		ds.X[bad*ds.D+j] = 3e38
	}
	m, _ := nn.New(nn.Config{In: 3, Out: 1, Hidden: []int{16}, Activation: nn.ReLU, Seed: 2})
	cfg := testConfig(SamplerUpperBound)
	cfg.TauThreshold = 1
	tr, err := NewTrainer(testBackend, m, ds, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr.samp.(sample.TauSampler).SetTau(10)
	r := make([]float64, 1)
	tr.passes.Residuals(m.Params, []int{bad}, r)
	if !math.IsNaN(r[0]) && !math.IsInf(r[0], 0) {
		t.Fatalf("the extreme point's residual is %v: the test needs an overflowing forward pass", r[0])
	}
	_, err = tr.Train(context.Background())
	var de *DivergedError
	if !errors.As(err, &de) {
		t.Fatalf("Train returned %v, want a DivergedError", err)
	}
	var nf *sample.NonFiniteScoreError
	if !errors.As(err, &nf) || nf.Point != bad {
		t.Fatalf("Train returned %q, want it to name point %d's overflowing forward pass", err, bad)
	}
	msg := err.Error()
	for _, want := range []string{"point 7", "overflowed", "--lr"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q does not mention %q", msg, want)
		}
	}
	if de.NaNWeights != 0 || math.IsNaN(de.MaxWeightSeen) {
		t.Errorf("NaN weights reached the step: %+v", de)
	}
}

// nanSampler draws uniformly with weight big, and a NaN weight at
// iteration nanAt.
type nanSampler struct {
	n, calls, nanAt int
	big             float64
}

func (s *nanSampler) Refit(*ntk.Linearization) error { return nil }
func (s *nanSampler) Probs([]float32, []int, []float64) (bool, error) {
	return false, nil
}
func (s *nanSampler) Draw(rng *rand.Rand, _ []float32, idx []int, w []float64) error {
	for j := range idx {
		idx[j], w[j] = rng.IntN(s.n), 1
	}
	w[0] = s.big
	if s.calls == s.nanAt {
		w[1] = math.NaN()
	}
	s.calls++
	return nil
}

// TestMaxWeightIgnoresNaN: a NaN weight used to make the largest weight of
// the run (and of the minibatch) NaN; it is now the largest of the other
// weights, and the NaN is reported separately.
func TestMaxWeightIgnoresNaN(t *testing.T) {
	ds := smallTeacher(100, 3, 1, 5)
	m, _ := nn.New(nn.Config{In: 3, Out: 1, Hidden: []int{4}, Activation: nn.Tanh, Seed: 2})
	cfg := testConfig(SamplerNTKStatic)
	cfg.LR = 1e-4
	tr, err := NewTrainer(testBackend, m, ds, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr.samp = &nanSampler{n: ds.N, nanAt: 5, big: 7}
	var maxIter []float64
	tr.Recorder = Observers{OnIter: func(r IterRecord) { maxIter = append(maxIter, r.MaxWeight) }}
	_, err = tr.Train(context.Background())
	var de *DivergedError
	if !errors.As(err, &de) || de.Iter != 5 {
		t.Fatalf("Train returned %v, want a divergence at iteration 5", err)
	}
	if de.MaxWeight != 7 || de.MaxWeightSeen != 7 || de.NaNWeights != 1 {
		t.Errorf("max weight %v in the minibatch, %v in the run, %d NaN; want 7, 7, 1", de.MaxWeight, de.MaxWeightSeen, de.NaNWeights)
	}
	msg := de.Error()
	if !strings.Contains(msg, "1 of its weights NaN") || strings.Contains(msg, "weight NaN") {
		t.Errorf("message %q does not say separately that a weight was NaN", msg)
	}
	for _, v := range maxIter {
		if v != 7 {
			t.Errorf("iteration records' max weights %v, want 7", maxIter)
			break
		}
	}
}

// TestDivergedAdvice: "raise --eps" only for the samplers that have an ε.
func TestDivergedAdvice(t *testing.T) {
	for _, c := range []struct {
		sampler   string
		want, not []string
	}{
		{SamplerUniform, []string{"lower --lr", "weights are all 1"}, []string{"--eps", "--tau-th"}},
		{SamplerUpperBound, []string{"lower --lr", "--tau-th", "--presample"}, []string{"--eps"}},
		{SamplerLSH, []string{"lower --lr", "raise --eps", "now 0.1"}, []string{"--tau-th"}},
		{SamplerNTKStatic, []string{"raise --eps"}, []string{"--tau-th"}},
		{SamplerTrue, []string{"raise --eps"}, nil},
		{SamplerLoss, []string{"raise --eps"}, nil},
		{SamplerNTKExact, []string{"raise --eps"}, nil},
	} {
		e := &DivergedError{Iter: 3, Sampler: c.sampler, LR: 0.01, Eps: 0.1, Loss: math.Inf(1), MaxWeight: 2, MaxWeightSeen: 5}
		msg := e.Error()
		for _, w := range c.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: %q does not say %q", c.sampler, msg, w)
			}
		}
		for _, w := range c.not {
			if strings.Contains(msg, w) {
				t.Errorf("%s: %q says %q", c.sampler, msg, w)
			}
		}
	}
}
