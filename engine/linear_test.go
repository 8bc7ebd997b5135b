package engine

import (
	"context"
	"math"
	"testing"

	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/engine/ntk"
)

// TestLinearModelIsLGD: with no hidden layer the linearization is exact
// (Chen et al. 2019's setting): a_i = [x_i, 1], b_i = 0, and the
// linearized gradient magnitude that ntk-exact samples by equals the true
// per-sample gradient norm at any w.
func TestLinearModelIsLGD(t *testing.T) {
	ds := smallTeacher(200, 4, 1, 3)
	m, _ := nn.New(nn.Config{In: 4, Out: 1, Seed: 1})
	cfg := testConfig(SamplerNTKExact)
	tr, err := NewTrainer(testBackend, m, ds, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.rehash(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < ds.N; i++ {
		var x2 float64
		for _, v := range ds.X[i*4 : (i+1)*4] {
			x2 += float64(v) * float64(v)
		}
		if math.Abs(tr.lin.ANorm[i]-math.Sqrt(x2+1)) > 1e-5 || math.Abs(tr.lin.B[i]) > 1e-5 {
			t.Fatalf("point %d: |a|=%g b=%g, want %g and 0", i, tr.lin.ANorm[i], tr.lin.B[i], math.Sqrt(x2+1))
		}
	}
	for i := range m.Params {
		m.Params[i] += 0.3
	}
	lin := make([]float64, ds.N)
	exact := make([]float64, ds.N)
	delta := make([]float32, len(m.Params))
	for i := range delta {
		delta[i] = m.Params[i] - tr.lin.W0[i]
	}
	tr.passes.Linearized(tr.lin, delta, nil, lin)
	for i, v := range lin {
		lin[i] = math.Abs(v)
	}
	tr.GradNorms(nil, exact)
	for i := range lin {
		if math.Abs(lin[i]-exact[i]) > 1e-4*(1+exact[i]) {
			t.Fatalf("point %d: linearized magnitude %g, true gradient norm %g", i, lin[i], exact[i])
		}
	}
}

func TestLGDProbabilityRuns(t *testing.T) {
	ds := smallTeacher(400, 4, 1, 3)
	m, _ := nn.New(nn.Config{In: 4, Out: 1, Hidden: []int{8}, Seed: 1})
	cfg := testConfig(SamplerLSH)
	cfg.Prob = ProbLGD
	cfg.Hash.Query = ntk.QueryPaper // LGD's setting; its biased weights can diverge with the re-centred query
	tr, err := NewTrainer(testBackend, m, ds, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tr.Train(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !(res.Final.MaxWeight > 0) || !(res.Final.TrainLoss < res.Evals[0].TrainLoss) {
		t.Errorf("lgd run: max weight %g, loss %g -> %g", res.Final.MaxWeight, res.Evals[0].TrainLoss, res.Final.TrainLoss)
	}
}
