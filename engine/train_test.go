package engine

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/internal/testset"
	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/engine/ntk"
	"github.com/ntklsh/ntklsh/engine/sample"
)

// smallTeacher is the tests' heavy-tailed teacher set (testset.SmallTeacher).
func smallTeacher(n, d, out int, seed uint64) *data.Dataset {
	return testset.SmallTeacher(testBackend, n, d, out, seed)
}

func testConfig(sampler string) Config {
	c := DefaultConfig()
	c.Sampler = sampler
	c.Iters = 300
	c.Batch = 16
	c.LR = 0.05
	c.DiagSubset = 200
	c.RehashBatch = 64
	c.Hash.K, c.Hash.L = 4, 8
	return c
}

func TestEverySamplerTrains(t *testing.T) {
	for _, out := range []int{1, 3} {
		ds := smallTeacher(600, 5, out, 11)
		for _, s := range SamplerNames() {
			m, _ := nn.New(nn.Config{In: 5, Out: out, Hidden: []int{16}, Activation: nn.ReLU, Seed: 1})
			tr, err := NewTrainer(testBackend, m, ds, ds, testConfig(s))
			if err != nil {
				t.Fatal(err)
			}
			res, err := tr.Train(context.Background())
			if err != nil {
				t.Fatalf("%s: %v", s, err)
			}
			first, last := res.Evals[0], res.Final
			if !(last.TrainLoss < 0.7*first.TrainLoss) {
				t.Errorf("%s out=%d: train loss %g -> %g did not fall", s, out, first.TrainLoss, last.TrainLoss)
			}
			if s != SamplerUpperBound && math.IsNaN(last.SecondMoment) {
				t.Errorf("%s: no second-moment ratio", s)
			}
			if s == SamplerUniform && math.Abs(last.SecondMoment-1) > 1e-9 {
				t.Errorf("uniform second-moment ratio %g, want 1", last.SecondMoment)
			}
			if s == SamplerTrue && math.Abs(last.SecondMoment-last.Ideal) > 0.2*last.Ideal+0.05 {
				t.Errorf("true sampler ratio %g far from ideal %g", last.SecondMoment, last.Ideal)
			}
		}
	}
}

// TestWeightedGradientUnbiased checks, with the parameters held fixed, that
// the mean of many importance-weighted minibatch gradients matches the full
// gradient within a confidence interval, for every sampler.
func TestWeightedGradientUnbiased(t *testing.T) {
	if testing.Short() {
		t.Skip("Monte-Carlo test")
	}
	ds := smallTeacher(120, 3, 1, 5)
	for _, s := range SamplerNames() {
		for _, variant := range []string{"", "recentred", "sparse", "stale"} {
			if variant != "" && s != SamplerLSH {
				continue
			}
			recentred := variant == "recentred"
			m, _ := nn.New(nn.Config{In: 3, Out: 1, Hidden: []int{4}, Activation: nn.Tanh, Seed: 2})
			cfg := testConfig(s)
			cfg.Batch = 4
			cfg.Hash.K, cfg.Hash.L = 3, 4
			cfg.TauThreshold = 1 // upper-bound: importance sampling on from the start
			if recentred {
				cfg.Hash.Query, cfg.Hash.Alpha = ntk.QueryRecentred, 0.1
			}
			if variant == "sparse" {
				// The very sparse structured family (a new hash family:
				// its own unbiasedness check).
				cfg.Hash.Family = ntk.Sparse
			}
			if variant == "stale" {
				// Query reuse: each query serves 5 minibatches and is made
				// at other parameters than the gradient's (below).
				cfg.QueryEvery = 5
			}
			tr, err := NewTrainer(testBackend, m, ds, nil, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if sample.NeedsLinearization(tr.samp) {
				if err := tr.rehash(); err != nil {
					t.Fatal(err)
				}
			}
			// Move away from w0 so that the query differs from the rehash point.
			rng := rand.New(rand.NewPCG(4, 4))
			for i := range m.Params {
				m.Params[i] += float32(0.05 * rng.NormFloat64())
			}
			if ts, ok := tr.samp.(sample.TauSampler); ok {
				ts.SetTau(10)
			}
			hs := tr.host
			P := m.NumParams()
			// Full gradient.
			full := make([]float64, P)
			for i := 0; i < ds.N; i++ {
				hs.idx = tr.idx[:1]
				hs.w = tr.w[:1]
				hs.idx[0], hs.w[0] = i, 1
				hs.minibatchGrad()
				for j, g := range hs.grad {
					full[j] += float64(g) / float64(ds.N)
				}
			}
			tr.idx, tr.w = make([]int, cfg.Batch), make([]float64, cfg.Batch)
			const draws = 20000
			sum := make([]float64, P)
			sum2 := make([]float64, P)
			// The stale variant's queries are made at three other parameter
			// vectors in turn: the draws' distribution is not the one at
			// m.Params, but its probabilities are exact.
			var qparams [3][]float32
			for k := range qparams {
				qparams[k] = append([]float32(nil), m.Params...)
				for i := range qparams[k] {
					qparams[k][i] += float32(0.3 * rng.NormFloat64())
				}
			}
			for d := 0; d < draws; d++ {
				at := m.Params
				if variant == "stale" {
					at = qparams[d%3]
				}
				if err := tr.samp.Draw(tr.rng, at, tr.idx, tr.w); err != nil {
					t.Fatal(err)
				}
				hs.idx, hs.w = tr.idx, tr.w
				hs.minibatchGrad()
				for j, g := range hs.grad {
					sum[j] += float64(g)
					sum2[j] += float64(g) * float64(g)
				}
			}
			worst := 0.0
			for j := range sum {
				mean := sum[j] / draws
				v := sum2[j]/draws - mean*mean
				se := math.Sqrt(v/draws) + 1e-9
				worst = math.Max(worst, math.Abs(mean-full[j])/se)
			}
			// P ≈ 21 coordinates: |z| > 4.5 anywhere has probability < 2e-4.
			if worst > 4.5 {
				t.Errorf("%s (%q): mean weighted gradient differs from the full gradient by %.1f standard errors", s, variant, worst)
			}
		}
	}
}

func TestSecondMomentRatio(t *testing.T) {
	g := []float64{1, 2, 3, 4}
	N := 4
	uni := []float64{0.25, 0.25, 0.25, 0.25}
	r, ideal, kl := SecondMomentRatio(g, uni, N)
	if math.Abs(r-1) > 1e-12 {
		t.Errorf("uniform ratio %g", r)
	}
	opt := []float64{0.1, 0.2, 0.3, 0.4}
	r2, _, kl2 := SecondMomentRatio(g, opt, N)
	if math.Abs(r2-ideal) > 1e-12 || kl2 > 1e-12 || kl <= 0 {
		t.Errorf("optimal ratio %g vs ideal %g, kl %g %g", r2, ideal, kl2, kl)
	}
	// (Σg)²/(nΣg²) = 100/120.
	if math.Abs(ideal-100.0/120) > 1e-12 {
		t.Errorf("ideal %g", ideal)
	}
}

func TestConfigValidateMessages(t *testing.T) {
	c := DefaultConfig()
	c.Sampler = "nope"
	c.LR = -1
	c.Eps = 2
	c.Hash.K = 40
	err := c.Validate()
	if err == nil {
		t.Fatal("expected errors")
	}
	for _, want := range []string{"unknown sampler", "lr=-1", "eps=2"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}
