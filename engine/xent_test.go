package engine

import (
	"context"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/internal/testset"
	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/engine/ntk"
	"github.com/ntklsh/ntklsh/engine/sample"
)

func classTeacher(n, d, classes int, seed uint64) *data.Dataset {
	return testset.SmallClassTeacher(testBackend, n, d, classes, seed)
}

func xentConfig(sampler string) Config {
	c := testConfig(sampler)
	c.Loss = "xent"
	c.LR = 0.2
	return c
}

// TestXentStepperMatchesPasses: the host stepper's gradient of one point
// (weight 1) has the exact per-example norm of Passes.GradNorms (checked
// against explicit Jacobians in package ntk), and a weighted minibatch's
// loss and gradient are the weighted sums of the per-point ones.
func TestXentStepperMatchesPasses(t *testing.T) {
	ds := classTeacher(50, 4, 3, 1)
	m, _ := nn.New(nn.Config{In: 4, Out: 3, Hidden: []int{6}, Activation: nn.ReLU, Seed: 3})
	tr, err := NewTrainer(testBackend, m, ds, nil, xentConfig(SamplerUniform))
	if err != nil {
		t.Fatal(err)
	}
	if m.Loss != nn.Xent {
		t.Fatal("NewTrainer did not set the model's loss")
	}
	hs := tr.host
	gn, ls := make([]float64, ds.N), make([]float64, ds.N)
	tr.GradNorms(nil, gn)
	tr.Losses(nil, ls)
	P := m.NumParams()
	per := make([][]float64, ds.N)
	for i := 0; i < ds.N; i++ {
		hs.idx, hs.w = []int{i}, []float64{1}
		l := hs.minibatchGrad()
		var s float64
		per[i] = make([]float64, P)
		for j, g := range hs.grad {
			s += float64(g) * float64(g)
			per[i][j] = float64(g)
		}
		if math.Abs(math.Sqrt(s)-gn[i]) > 1e-5*(1+gn[i]) || math.Abs(l-ls[i]) > 1e-6*(1+ls[i]) {
			t.Fatalf("point %d: stepper |g| %g loss %g, passes %g %g", i, math.Sqrt(s), l, gn[i], ls[i])
		}
	}
	idx, w := []int{3, 7, 7, 20}, []float64{0.5, 2, 1.5, 3}
	hs.idx, hs.w = idx, w
	l := hs.minibatchGrad()
	var wantL float64
	want := make([]float64, P)
	for b, i := range idx {
		wantL += w[b] / 4 * ls[i]
		for j := range want {
			want[j] += w[b] / 4 * per[i][j]
		}
	}
	if math.Abs(l-wantL) > 1e-6 {
		t.Errorf("weighted loss %g, want %g", l, wantL)
	}
	for j := range want {
		if math.Abs(float64(hs.grad[j])-want[j]) > 1e-5*(1+math.Abs(want[j])) {
			t.Fatalf("weighted gradient [%d] %g, want %g", j, hs.grad[j], want[j])
		}
	}
	if bl := hs.batchLoss(); math.Abs(bl-wantL) > 1e-6 {
		t.Errorf("batchLoss %g, want %g", bl, wantL)
	}
}

// TestXentWeightedGradientUnbiased is TestWeightedGradientUnbiased under
// the softmax cross-entropy: with the parameters held fixed away from w0,
// the mean of many importance-weighted minibatch gradients matches the
// full gradient for every sampler (lsh with both queries and the
// last-layer hash), and every sampler with per-draw probabilities gives
// probabilities that sum to 1 over the data set.
func TestXentWeightedGradientUnbiased(t *testing.T) {
	if testing.Short() {
		t.Skip("Monte-Carlo test")
	}
	checkWeightedGradientUnbiased(t, classTeacher(120, 3, 3, 5), xentConfig, SamplerNames())
}

// checkWeightedGradientUnbiased trains nothing: for each sampler of
// samplers (lsh also with the re-centred query and the last-layer hash),
// with cfg(sampler) on a 3-3-4 tanh model over ds (3 inputs, 3 outputs)
// and the parameters held fixed away from the rehash point, it checks that
// the mean of many importance-weighted minibatch gradients matches the
// full gradient and that per-draw probabilities, where the sampler has
// them, sum to 1.
func checkWeightedGradientUnbiased(t *testing.T, ds *data.Dataset, cfgOf func(string) Config, samplers []string) {
	t.Helper()
	type variant struct {
		s        string
		query    ntk.QueryMode
		lastOnly bool
	}
	var vs []variant
	for _, s := range samplers {
		vs = append(vs, variant{s: s})
		if s == SamplerLSH {
			vs = append(vs, variant{s: s, query: ntk.QueryRecentred}, variant{s: s, query: ntk.QueryRecentred, lastOnly: true})
		}
	}
	for _, v := range vs {
		m, _ := nn.New(nn.Config{In: 3, Out: 3, Hidden: []int{4}, Activation: nn.Tanh, Seed: 2})
		cfg := cfgOf(v.s)
		cfg.Batch = 4
		cfg.Hash = ntk.HashConfig{K: 3, L: 4, Family: ntk.Structured, MIPS: true, Query: v.query, Alpha: 0.1, SignSymmetric: true, LastLayerOnly: v.lastOnly, Seed: 7}
		cfg.TauThreshold = 1
		tr, err := NewTrainer(testBackend, m, ds, nil, cfg)
		if err != nil {
			t.Fatal(err)
		}
		awayFromW0(t, tr, 0.1)
		if ts, ok := tr.samp.(sample.TauSampler); ok {
			ts.SetTau(10)
		}
		probs := make([]float64, ds.N)
		if tr.SamplerProbs(nil, probs) {
			var s float64
			for _, p := range probs {
				s += p
			}
			if math.Abs(s-1) > 1e-9 {
				t.Errorf("%s: probabilities sum to %g", v.s, s)
			}
		}
		hs := tr.host
		full := fullGradient(hs, ds.N)
		idx, w := make([]int, cfg.Batch), make([]float64, cfg.Batch)
		mom := newGradMoments(m.NumParams())
		for d := 0; d < 20000; d++ {
			if err := tr.samp.Draw(tr.rng, m.Params, idx, w); err != nil {
				t.Fatal(err)
			}
			hs.idx, hs.w = idx, w
			hs.minibatchGrad()
			mom.add(hs.grad)
		}
		worst := mom.worstZ(full)
		// P = 31 coordinates: |z| > 4.5 anywhere has probability < 3e-4.
		if worst > 4.5 {
			t.Errorf("%s (query %v, last-layer %v): mean weighted gradient differs from the full gradient by %.1f standard errors", v.s, v.query, v.lastOnly, worst)
		}
	}
}

// TestXentEverySamplerTrains: under xent every sampler lowers the
// cross-entropy and raises the accuracy of an imbalanced 4-class teacher
// set; the rows carry accuracy and cross-entropy (= the loss under xent),
// and the gradient-norm samplers lower the second moment below uniform's
// (median over the second half of the run): ntk-exact — the xent
// linearization of package ntk, xent.go — about as much as true, lsh
// (the default tables) less.
func TestXentEverySamplerTrains(t *testing.T) {
	ds := classTeacher(600, 5, 4, 11)
	for _, s := range SamplerNames() {
		m, _ := nn.New(nn.Config{In: 5, Out: 4, Hidden: []int{16}, Activation: nn.ReLU, Seed: 1})
		cfg := xentConfig(s)
		cfg.Hash = DefaultConfig().Hash
		tr, err := NewTrainer(testBackend, m, ds, ds, cfg)
		if err != nil {
			t.Fatal(err)
		}
		res, err := tr.Train(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		first, last := res.Evals[0], res.Final
		if !(last.TrainLoss < 0.8*first.TrainLoss) || !(last.TrainAccuracy > first.TrainAccuracy+0.1) {
			t.Errorf("%s: cross-entropy %g -> %g, accuracy %g -> %g", s, first.TrainLoss, last.TrainLoss, first.TrainAccuracy, last.TrainAccuracy)
		}
		if math.Abs(last.TrainXent-last.TrainLoss) > 1e-9 || math.IsNaN(last.TestAccuracy) || math.IsNaN(last.TestXent) {
			t.Errorf("%s: row %+v", s, last)
		}
		var ratios []float64
		for _, e := range res.Evals[len(res.Evals)/2:] {
			ratios = append(ratios, e.SecondMoment)
		}
		med := median(ratios)
		want := map[string]float64{SamplerNTKStatic: 0.7, SamplerTrue: 0.6, SamplerNTKExact: 0.6, SamplerLSH: 0.97}
		if lim, ok := want[s]; ok && !(med < lim) {
			t.Errorf("%s: median second-moment ratio %g, want below %g", s, med, lim)
		}
	}
}

// TestXentRefused: xent with one output, with the newton step size and on
// a device stepper is refused with a reason; gn is accepted.
func TestXentRefused(t *testing.T) {
	ds := classTeacher(20, 2, 2, 1)
	m, _ := nn.New(nn.Config{In: 2, Out: 1, Seed: 1})
	ds1 := &data.Dataset{N: 20, D: 2, O: 1, X: ds.X, Y: make([]float32, 20)}
	if _, err := NewTrainer(testBackend, m, ds1, nil, xentConfig(SamplerUniform)); err == nil {
		t.Error("xent with one output accepted")
	}
	c := xentConfig(SamplerUniform)
	c.StepSize = StepGN
	if err := c.Validate(); err != nil {
		t.Errorf("xent with the gn step refused: %v", err)
	}
	c.StepSize = StepNewton
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "newton") || !strings.Contains(err.Error(), "xent") || !strings.Contains(err.Error(), "step-size gn") {
		t.Errorf("xent with the newton step: %v, want a refusal naming newton, xent and the gn alternative", err)
	}
	if DeviceStepSupported(xentConfig(SamplerUniform)) == nil {
		t.Error("xent on the device stepper accepted")
	}
	c = DefaultConfig()
	c.Loss = "hinge"
	if c.Validate() == nil {
		t.Error("loss hinge accepted")
	}
}

// awayFromW0 rehashes tr's sampler when it needs a linearization and then
// moves the parameters by N(0, sigma²) noise, so that the draws' query
// point differs from the rehash point w0.
func awayFromW0(t *testing.T, tr *Trainer, sigma float64) {
	t.Helper()
	if sample.NeedsLinearization(tr.samp) {
		if err := tr.rehash(); err != nil {
			t.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(4, 4))
	for i := range tr.m.Params {
		tr.m.Params[i] += float32(sigma * rng.NormFloat64())
	}
}

// fullGradient returns the full gradient (1/N) Σ_i ∇ℓ_i at the current
// parameters, one point at a time through the host stepper.
func fullGradient(hs *hostStepper, n int) []float64 {
	full := make([]float64, len(hs.grad))
	for i := 0; i < n; i++ {
		hs.idx, hs.w = []int{i}, []float64{1}
		hs.minibatchGrad()
		for j, g := range hs.grad {
			full[j] += float64(g) / float64(n)
		}
	}
	return full
}

// gradMoments accumulates the first two moments of gradient estimates.
type gradMoments struct {
	sum, sum2 []float64
	n         int
}

func newGradMoments(p int) *gradMoments {
	return &gradMoments{sum: make([]float64, p), sum2: make([]float64, p)}
}

func (g *gradMoments) add(v []float32) {
	g.n++
	for j, x := range v {
		g.sum[j] += float64(x)
		g.sum2[j] += float64(x) * float64(x)
	}
}

// worstZ is the largest |mean − full| over the coordinates, in standard
// errors of the mean.
func (g *gradMoments) worstZ(full []float64) float64 {
	n := float64(g.n)
	worst := 0.0
	for j := range g.sum {
		mean := g.sum[j] / n
		se := math.Sqrt((g.sum2[j]/n-mean*mean)/n) + 1e-9
		worst = math.Max(worst, math.Abs(mean-full[j])/se)
	}
	return worst
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// TestXentRefusesRegressionTargets: the cross-entropy on targets that are
// not class distributions is an error naming the set and the row, not a
// run with a meaningless (negative) loss.
func TestXentRefusesRegressionTargets(t *testing.T) {
	reg := smallTeacher(50, 3, 3, 1)
	reg.Name = "teacher"
	m, _ := nn.New(nn.Config{In: 3, Out: 3, Hidden: []int{4}, Activation: nn.Tanh, Loss: nn.Xent, Seed: 1})
	cfg := testConfig(SamplerUniform)
	cfg.Loss = "xent"
	if _, err := NewTrainer(testBackend, m, reg, nil, cfg); err == nil || !strings.Contains(err.Error(), "teacher: row 0") {
		t.Errorf("regression targets under xent: %v", err)
	}
	soft := &data.Dataset{Name: "soft", N: 2, D: 3, O: 3, X: make([]float32, 6), Y: []float32{0.2, 0.3, 0.5, 0, 1, 0}}
	if _, err := NewTrainer(testBackend, m, soft, nil, cfg); err != nil {
		t.Errorf("soft and one-hot targets refused: %v", err)
	}
}
