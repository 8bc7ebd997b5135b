package engine

import (
	"context"
	"math"
	"testing"

	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/nn"
)

func heavyTrainer(t *testing.T, sampler string, N, subset int) *Trainer {
	t.Helper()
	ds, err := data.Teacher(data.TeacherConfig{N: N, D: 8, Hidden: 16, O: 1, TailDOF: 2, Noise: 0.1, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := nn.New(nn.Config{In: 8, Out: 1, Hidden: []int{32}, Activation: nn.ReLU, Seed: 5})
	cfg := testConfig(sampler)
	cfg.Iters, cfg.LR, cfg.EvalEvery, cfg.DiagSubset, cfg.RehashEvery = 100, 0.002, 100, subset, 50
	tr, err := NewTrainer(testBackend, m, ds, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Train(context.Background()); err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestDiagnosticsHeavyTailed: on heavy-tailed data the diagnostics' ratio
// from 200 of 5000 points must be close to the ratio on all points. The
// uniform subset of before was off by a large factor (it misses the few
// points that dominate Σ g²).
func TestDiagnosticsHeavyTailed(t *testing.T) {
	for _, s := range []string{SamplerNTKStatic, SamplerLSH} {
		tr := heavyTrainer(t, s, 5000, 200)
		g := make([]float64, tr.n)
		tr.GradNorms(nil, g)
		p := make([]float64, tr.n)
		if !tr.SamplerProbs(nil, p) {
			t.Fatal("no probabilities")
		}
		all, allIdeal, _ := SecondMomentRatio(g, p, tr.n)
		ratio, ideal, _, _ := tr.diagnostics()
		t.Logf("%s: ratio %.4g (all points %.4g), ideal %.4g (%.4g)", s, ratio, all, ideal, allIdeal)
		if math.Abs(ratio/all-1) > 0.25 {
			t.Errorf("%s: ratio %.4g from the subset, %.4g on all points", s, ratio, all)
		}
		if math.Abs(ideal/allIdeal-1) > 0.25 {
			t.Errorf("%s: ideal %.4g from the subset, %.4g on all points", s, ideal, allIdeal)
		}
	}
}

// TestDiagnosticsWholeSetAndDeterministic: a subset as large as the data
// set gives exactly the whole-set values, and the diagnostics are the same
// for the same seed.
func TestDiagnosticsWholeSetAndDeterministic(t *testing.T) {
	tr := heavyTrainer(t, SamplerNTKStatic, 600, 600)
	g := make([]float64, tr.n)
	tr.GradNorms(nil, g)
	p := make([]float64, tr.n)
	tr.SamplerProbs(nil, p)
	r0, i0, _ := SecondMomentRatio(g, p, tr.n)
	r, i, _, _ := tr.diagnostics()
	if math.Abs(r/r0-1) > 1e-12 || math.Abs(i/i0-1) > 1e-12 {
		t.Errorf("whole-set subset: ratio %v ideal %v, want %v %v", r, i, r0, i0)
	}
	a := heavyTrainer(t, SamplerLSH, 3000, 100)
	b := heavyTrainer(t, SamplerLSH, 3000, 100)
	ra, ia, ka, _ := a.diagnostics()
	rb, ib, kb, _ := b.diagnostics()
	if ra != rb || ia != ib || ka != kb {
		t.Errorf("same seed, different diagnostics: %v %v %v vs %v %v %v", ra, ia, ka, rb, ib, kb)
	}
}

func TestTopK(t *testing.T) {
	q := []float64{3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5}
	got := topK(q, 4)
	want := []int{5, 7, 4, 8} // 9, 6, 5 (index 4), 5 (index 8)
	for k := range want {
		if got[k] != want[k] {
			t.Fatalf("topK = %v, want %v", got, want)
		}
	}
	if len(topK(q, 0)) != 0 || len(topK(q, 11)) != 11 {
		t.Error("topK edge cases")
	}
}
