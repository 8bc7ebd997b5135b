package engine

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/engine/sample"
)

func bgConfig(s string) Config {
	cfg := testConfig(s)
	cfg.Iters = 90
	cfg.RehashEvery = 25
	cfg.Background = true
	cfg.RehashLag = 10
	cfg.Momentum = 0.5
	cfg.EvalEvery = 40
	return cfg
}

func newBgTrainer(t *testing.T, cfg Config) *Trainer {
	t.Helper()
	ds := smallTeacher(500, 4, 2, 21)
	m, _ := nn.New(nn.Config{In: 4, Out: 2, Hidden: []int{8, 5}, Activation: nn.Tanh, Seed: 3})
	tr, err := NewTrainer(testBackend, m, ds, ds, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestBackgroundResumeBitExact interrupts background-rehash runs while a
// rehash is in flight (between its start t and its switch t + lag: during
// the warm start and later), takes the state through JSON, restores it into
// a fresh trainer and checks the final weights equal an uninterrupted run's
// bit for bit, and so do the evaluation rows after the resume (the
// importance weights' ESS and largest weight accumulate across it); the
// same with automatic rehashes, and with ntk-drift's fitted λ (blocking
// rehashes: the fitted λ is state of its own).
func TestBackgroundResumeBitExact(t *testing.T) {
	type tc struct {
		sampler string
		auto    bool
		stop    int // interrupted at the start of this iteration
		every   int // lsh query reuse (blocking rehashes)
	}
	cases := []tc{{SamplerNTKStatic, false, 5, 0}, {SamplerNTKStatic, false, 30, 0}, {SamplerLSH, false, 55, 0},
		{SamplerNTKExact, false, 31, 0}, {SamplerNTKStatic, true, 5, 0}, {SamplerLSH, true, 50, 0}, {SamplerUniform, false, 30, 0},
		{SamplerNTKDrift, false, 55, 0}, {SamplerNTKDrift, false, 50, 0}, {SamplerLSH, false, 57, 4}, {SamplerLSH, true, 62, 3},
		{"blocking-first", false, 30, 0}, {"blocking-first", true, 5, 0}}
	for _, c := range cases {
		sampler := c.sampler
		if sampler == "blocking-first" {
			sampler = SamplerNTKStatic
		}
		cfg := bgConfig(sampler)
		cfg.BlockingFirst = c.sampler == "blocking-first"
		if c.auto {
			cfg.RehashAuto, cfg.RehashCost, cfg.Iters = true, 2, 160
		}
		if c.sampler == SamplerNTKDrift {
			// Blocking rehashes every 25: λ is fitted at 25, 50 and 75,
			// the stop at 55 falls between two fits.
			cfg.Background, cfg.RehashLag, cfg.DriftLambda = false, 0, -1
		}
		if c.every > 0 {
			// The stop falls while a cached query serves.
			cfg.QueryEvery = c.every
			if !c.auto {
				cfg.Background, cfg.RehashLag = false, 0
			}
		}
		ref := newBgTrainer(t, cfg)
		rres, err := ref.Train(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		a := newBgTrainer(t, cfg)
		ctx, cancel := context.WithCancel(context.Background())
		a.Recorder = Observers{OnIter: func(r IterRecord) {
			if r.Iter == c.stop-1 {
				cancel()
			}
		}}
		_, err = a.Train(ctx)
		var ie *InterruptedError
		if !errors.As(err, &ie) || ie.Iter != c.stop {
			t.Fatalf("%+v: interrupted with %v", c, err)
		}
		st := a.State()
		if c.every > 0 && st.QueryCodes == nil {
			t.Fatalf("%+v: no cached query in the state", c)
		}
		if c.sampler != SamplerUniform && c.sampler != SamplerNTKDrift && c.every == 0 && !c.auto && !st.Pending && !cfg.BlockingFirst {
			t.Fatalf("%+v: no rehash in flight at iteration %d", c, c.stop)
		}
		// Through JSON, as a checkpoint keeps it (the vectors travel
		// beside it).
		js, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		var st2 State
		if err := json.Unmarshal(js, &st2); err != nil {
			t.Fatal(err)
		}
		st2.Params, st2.Velocity, st2.W0, st2.PendingW0 = st.Params, st.Velocity, st.W0, st.PendingW0
		b := newBgTrainer(t, cfg)
		if err := b.Restore(st2); err != nil {
			t.Fatal(err)
		}
		res, err := b.Train(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range ref.m.Params {
			if b.m.Params[i] != v {
				t.Fatalf("%+v: parameter %d differs after resume: %v vs %v", c, i, b.m.Params[i], v)
			}
		}
		if res.Final.Rehashes != rres.Final.Rehashes {
			t.Errorf("%+v: %d rehashes after resume, %d without", c, res.Final.Rehashes, rres.Final.Rehashes)
		}
		if len(res.Evals) != len(rres.Evals) {
			t.Fatalf("%+v: %d evaluation rows after resume, %d without", c, len(res.Evals), len(rres.Evals))
		}
		for i, e := range res.Evals {
			r := rres.Evals[i]
			same := func(x, y float64) bool { return x == y || math.IsNaN(x) && math.IsNaN(y) }
			if !same(e.ESS, r.ESS) || !same(e.MaxWeight, r.MaxWeight) || e.TrainLoss != r.TrainLoss {
				t.Errorf("%+v: row at iteration %d after resume: ESS %v, max weight %v, loss %v; without: %v, %v, %v",
					c, e.Iter, e.ESS, e.MaxWeight, e.TrainLoss, r.ESS, r.MaxWeight, r.TrainLoss)
			}
		}
		if c.sampler != SamplerUniform && !c.auto && !cfg.BlockingFirst && rres.Final.Rehashes != 4 {
			// Starts at 0, 25, 50, 75 (75 + 10 < 90): four switches.
			t.Errorf("%+v: %d rehashes, want 4", c, rres.Final.Rehashes)
		}
	}
}

// TestBackgroundTimingIndependent: the result does not depend on how fast
// the background job runs (1 or 3 workers) nor on how many goroutines the
// steps' GEMMs get.
func TestBackgroundTimingIndependent(t *testing.T) {
	var ref []float32
	for _, w := range []int{1, 3} {
		cfg := bgConfig(SamplerLSH)
		cfg.RehashWorkers = w
		tr := newBgTrainer(t, cfg)
		if _, err := tr.Train(context.Background()); err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref = tr.m.Params
			continue
		}
		for i, v := range ref {
			if tr.m.Params[i] != v {
				t.Fatalf("workers=%d: parameter %d differs: %v vs %v", w, i, tr.m.Params[i], v)
			}
		}
	}
}

// TestBackgroundWarmStartUniform: before the first switch the draws are
// uniform with weight 1 and the probabilities reported are 1/N; at the
// lag the linearization switches in.
func TestBackgroundWarmStartUniform(t *testing.T) {
	cfg := bgConfig(SamplerNTKStatic)
	cfg.EvalEvery = 5
	tr := newBgTrainer(t, cfg)
	var evals []Eval
	tr.Recorder = Observers{OnIter: func(r IterRecord) {
		if r.Iter < cfg.RehashLag && r.MaxWeight != 1 {
			t.Errorf("iteration %d: max weight %g during the warm start, want 1", r.Iter, r.MaxWeight)
		}
	}, OnEval: func(e Eval) { evals = append(evals, e) }}
	if _, err := tr.Train(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, e := range evals {
		warm := e.Iter < cfg.RehashLag
		if e.Uniform != warm {
			t.Errorf("iteration %d: uniform draws %v, want %v", e.Iter, e.Uniform, warm)
		}
		if warm && math.Abs(e.SecondMoment-1) > 1e-9 {
			t.Errorf("iteration %d: warm-start second-moment ratio %g, want 1 (uniform probabilities)", e.Iter, e.SecondMoment)
		}
		if !warm && e.SecondMoment == 1 {
			t.Errorf("iteration %d: ratio exactly 1 after the switch", e.Iter)
		}
	}
}

// checkUnbiased checks, with the parameters held fixed, that the mean of
// many importance-weighted minibatch gradients drawn by the trainer's loop
// (Trainer.draw) matches the full gradient within a confidence interval
// (the method of TestWeightedGradientUnbiased).
func checkUnbiased(t *testing.T, name string, tr *Trainer) {
	t.Helper()
	hs, m := tr.host, tr.m
	n, P := tr.n, m.NumParams()
	full := make([]float64, P)
	idx, w := make([]int, 1), make([]float64, 1)
	for i := 0; i < n; i++ {
		hs.idx, hs.w = idx, w
		idx[0], w[0] = i, 1
		hs.minibatchGrad()
		for j, g := range hs.grad {
			full[j] += float64(g) / float64(n)
		}
	}
	idx, w = make([]int, tr.cfg.Batch), make([]float64, tr.cfg.Batch)
	const draws = 20000
	sum := make([]float64, P)
	sum2 := make([]float64, P)
	for d := 0; d < draws; d++ {
		if err := tr.draw(tr.rng, m.Params, idx, w); err != nil {
			t.Fatal(err)
		}
		hs.idx, hs.w = idx, w
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
	if worst > 4.5 {
		t.Errorf("%s: mean weighted gradient differs from the full gradient by %.1f standard errors", name, worst)
	}
}

// TestBackgroundDrawsUnbiased: the loop's draws are unbiased in every new
// state: the uniform warm start, after a background switch (linearized at
// a snapshot, the parameters moved on), and the automatic fallback.
func TestBackgroundDrawsUnbiased(t *testing.T) {
	if testing.Short() {
		t.Skip("Monte-Carlo test")
	}
	for _, s := range []string{SamplerNTKStatic, SamplerLSH} {
		tr, m, move := bgUnbiasedTrainer(t, s, false, 4)
		if !tr.drawsUniform() {
			t.Fatalf("%s: not uniform before the first linearization", s)
		}
		checkUnbiased(t, s+" warm start", tr)
		tr.startBackground(0, m.Params)
		move() // the step goes on while the job runs on the snapshot
		if err := tr.switchBackground(); err != nil {
			t.Fatal(err)
		}
		move()
		if tr.drawsUniform() {
			t.Fatalf("%s: uniform after the switch", s)
		}
		checkUnbiased(t, s+" after a background switch", tr)
		tr.est.Fallback = true
		if !tr.drawsUniform() {
			t.Fatalf("%s: fallback does not draw uniformly", s)
		}
		checkUnbiased(t, s+" fallback", tr)
		p := make([]float64, 3)
		if !tr.SamplerProbs([]int{0, 1, 2}, p) || p[0] != 1/float64(tr.n) {
			t.Errorf("%s: fallback probabilities %v, want 1/N", s, p)
		}
	}
}

// TestEstimatorUnbiased: over many draws at fixed parameters, the
// estimator's averages of w²g² and w g² give the exact second-moment ratio
// of the sampler's probabilities (WeightedSecondMomentRatio over all
// points).
func TestEstimatorUnbiased(t *testing.T) {
	ds := smallTeacher(300, 3, 1, 7)
	m, _ := nn.New(nn.Config{In: 3, Out: 1, Hidden: []int{6}, Activation: nn.Tanh, Seed: 2})
	cfg := testConfig(SamplerNTKStatic)
	cfg.Batch = 8
	tr, err := NewTrainer(testBackend, m, ds, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.rehash(); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(4, 4))
	for i := range m.Params {
		m.Params[i] += float32(0.1 * rng.NormFloat64())
	}
	g := make([]float64, ds.N)
	tr.GradNorms(nil, g)
	p := make([]float64, ds.N)
	if !tr.SamplerProbs(nil, p) {
		t.Fatal("no probabilities")
	}
	exact, _, _ := SecondMomentRatio(g, p, ds.N)
	const iters = 20000
	var sa, su float64
	tr.est = EstimatorState{}
	for k := 0; k < iters; k++ {
		if err := tr.draw(tr.rng, m.Params, tr.idx, tr.w); err != nil {
			t.Fatal(err)
		}
		tr.host.idx, tr.host.w = tr.idx, tr.w
		tr.host.minibatchGrad()
		before := tr.est
		tr.est = EstimatorState{}
		tr.updateEstimate()
		sa += tr.est.A
		su += tr.est.U
		tr.est = before
	}
	got := sa / su
	if math.Abs(got/exact-1) > 0.05 {
		t.Errorf("estimated ratio %g, exact %g", got, exact)
	}
	if exact > 0.9 {
		t.Errorf("exact ratio %g: the test needs a sampler well below uniform", exact)
	}
}

// TestEstimateTracksDiagnostics: on a run, the running estimate in Eval
// follows the diagnostics' exact ratio (diagnostics on every point).
func TestEstimateTracksDiagnostics(t *testing.T) {
	ds := smallTeacher(2000, 4, 1, 9)
	for _, bg := range []bool{false, true} {
		m, _ := nn.New(nn.Config{In: 4, Out: 1, Hidden: []int{16}, Activation: nn.ReLU, Seed: 1})
		cfg := testConfig(SamplerNTKStatic)
		cfg.Iters, cfg.EvalEvery, cfg.DiagSubset, cfg.RehashEvery = 1200, 100, ds.N, 400
		cfg.Background, cfg.RehashLag = bg, 0
		tr, err := NewTrainer(testBackend, m, ds, nil, cfg)
		if err != nil {
			t.Fatal(err)
		}
		tr.TrackEstimate = true
		res, err := tr.Train(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var errs []float64
		var se, sx float64
		for _, e := range res.Evals {
			if e.Iter == 0 || math.IsNaN(e.EstSecondMoment) {
				continue
			}
			se += e.EstSecondMoment
			sx += e.SecondMoment
			errs = append(errs, math.Abs(math.Log(e.EstSecondMoment/e.SecondMoment)))
			t.Logf("bg=%v iter %d: estimate %.3f exact %.3f", bg, e.Iter, e.EstSecondMoment, e.SecondMoment)
		}
		if len(errs) < 5 {
			t.Fatalf("bg=%v: only %d estimates", bg, len(errs))
		}
		sort.Float64s(errs)
		// The estimate averages the last estWindow iterations of
		// heavy-tailed terms while the ratio drifts: single rows are off
		// by up to 2× on this small set, the run's level is not.
		if med := errs[len(errs)/2]; med > 0.3 {
			t.Errorf("bg=%v: median |log(estimate/exact)| %.3f", bg, med)
		}
		if l := math.Abs(math.Log(se / sx)); l > 0.2 {
			t.Errorf("bg=%v: mean estimate %.3f, mean exact %.3f", bg, se/float64(len(errs)), sx/float64(len(errs)))
		}
	}
}

// TestEstimatorAutoRule checks the automatic refresh's bookkeeping: the
// fresh ratio at the window, the excess per iteration, the due point, and
// the fallback when the estimate reaches 1.
func TestEstimatorAutoRule(t *testing.T) {
	var e EstimatorState
	const window = 10
	for k := 0; k < window; k++ {
		e.add(0.5, 1, window, true)
	}
	if e.Fresh != 0.5 || e.Fallback || e.Excess != 0 {
		t.Fatalf("after the window: %+v", e)
	}
	// Drifted to 0.625: each iteration loses 1 − 0.5/r.
	for k := 0; k < 200; k++ {
		e.add(0.625, 1, window, true)
	}
	r := e.ratio()
	if !(r > 0.62 && r < 0.625) || e.Fallback {
		t.Fatalf("drifted: ratio %g, %+v", r, e)
	}
	if !e.due(e.Excess, window) || e.due(e.Excess+1e-9, window) {
		t.Error("due does not compare the excess with the cost")
	}
	if e.Excess < 20 || e.Excess > 40 {
		t.Errorf("excess %g after 200 iterations losing up to 0.2 each", e.Excess)
	}
	// No better than uniform: fallback, and the loss is then 1 − fresh.
	for k := 0; e.ratio() < 1 && k < 10000; k++ {
		e.add(1.2, 1, window, true)
	}
	if !e.Fallback {
		t.Fatalf("no fallback at ratio %g", e.ratio())
	}
	x := e.Excess
	e.add(1.2, 1, window, true)
	if math.Abs(e.Excess-x-0.5) > 1e-12 {
		t.Errorf("excess grew by %g in the fallback, want 0.5", e.Excess-x)
	}
	e.reset()
	if e.Fallback || !math.IsNaN(e.ratio()) {
		t.Errorf("reset left %+v", e)
	}
}

// TestAutoRehashRuns: automatic rehashes happen (more than one) and the
// run trains, blocking and in the background.
func TestAutoRehashRuns(t *testing.T) {
	ds := smallTeacher(600, 5, 1, 11)
	for _, bg := range []bool{false, true} {
		m, _ := nn.New(nn.Config{In: 5, Out: 1, Hidden: []int{16}, Activation: nn.ReLU, Seed: 1})
		cfg := testConfig(SamplerNTKStatic)
		cfg.Iters, cfg.RehashAuto, cfg.RehashCost, cfg.Background, cfg.RehashLag = 600, true, 3, bg, 5
		if !bg {
			cfg.RehashLag = 0
		}
		tr, err := NewTrainer(testBackend, m, ds, nil, cfg)
		if err != nil {
			t.Fatal(err)
		}
		res, err := tr.Train(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if res.Final.Rehashes < 2 || !(res.Final.TrainLoss < 0.7*res.Evals[0].TrainLoss) {
			t.Errorf("bg=%v: %d rehashes, loss %g -> %g", bg, res.Final.Rehashes, res.Evals[0].TrainLoss, res.Final.TrainLoss)
		}
	}
}

// TestBackgroundConfig: the new fields are checked, and a plain run of
// every sampler with background rehashes trains.
func TestBackgroundConfig(t *testing.T) {
	c := testConfig(SamplerLSH)
	c.RehashLag = 3
	if c.Validate() == nil {
		t.Error("rehash-lag without background accepted")
	}
	c = testConfig(SamplerLSH)
	c.RehashAuto, c.KeepStepping = true, 2
	if c.Validate() == nil {
		t.Error("auto rehash with keep-stepping accepted")
	}
	c = testConfig(SamplerLSH)
	c.RehashAuto, c.RehashEpochs = true, 0
	if err := c.Validate(); err != nil {
		t.Errorf("auto rehash needs no period: %v", err)
	}
	for _, s := range SamplerNames() {
		cfg := bgConfig(s)
		cfg.Momentum = 0
		tr := newBgTrainer(t, cfg)
		if _, err := tr.Train(context.Background()); err != nil {
			t.Errorf("%s: %v", s, err)
		}
		if sample.NeedsLinearization(tr.samp) && tr.Lag() != 10 {
			t.Errorf("%s: lag %d", s, tr.Lag())
		}
	}
}

// TestEstimatorFallbackRetries: a fallback decided on the very first window
// (fresh ratio ≥ 1) still comes due for a refresh, after at most
// fallbackRetry × the cost.
func TestEstimatorFallbackRetries(t *testing.T) {
	var e EstimatorState
	const window, cost = 10, 50.0
	k := 0
	for ; k < 10000 && !e.due(cost, window); k++ {
		e.add(1.5, 1, window, true)
	}
	if !e.Fallback || k > window+int(fallbackRetry*cost)+1 {
		t.Fatalf("fallback %v, due after %d iterations, want at most %v", e.Fallback, k, window+fallbackRetry*cost)
	}
}

// TestAutoRehashRefusesOtherSteps: the estimate behind --rehash auto needs
// the host step's per-example norms at the step's parameters.
func TestAutoRehashRefusesOtherSteps(t *testing.T) {
	c := testConfig(SamplerNTKStatic)
	c.RehashAuto = true
	c.StepSize = StepGN
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "step-size=gn") {
		t.Errorf("auto with gn: %v", err)
	}
	c.StepSize = ""
	if err := DeviceStepSupported(c); err == nil {
		t.Error("the device stepper accepted --rehash auto")
	}
}

// TestBackgroundResumeKeepsDerivedLag: the default lag depends on the
// rehash workers (the core count); a run resumed with another count keeps
// the checkpoint's lag and ends bit for bit as the uninterrupted run, while
// an explicit --rehash-lag that differs is refused.
func TestBackgroundResumeKeepsDerivedLag(t *testing.T) {
	cfg := bgConfig(SamplerNTKStatic)
	cfg.RehashLag, cfg.RehashWorkers = 0, 1
	ref, st := bgReferenceAndInterrupted(t, cfg)
	other := cfg
	other.RehashWorkers = 4
	b := newBgTrainer(t, other)
	if b.Lag() == ref.Lag() {
		t.Fatalf("the derived lags do not differ (%d): the test shows nothing", b.Lag())
	}
	if err := b.Restore(st); err != nil {
		t.Fatal(err)
	}
	if b.Lag() != ref.Lag() {
		t.Fatalf("lag %d after restore, want the checkpoint's %d", b.Lag(), ref.Lag())
	}
	if _, err := b.Train(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, v := range ref.m.Params {
		if b.m.Params[i] != v {
			t.Fatalf("parameter %d differs after resume: %v vs %v", i, b.m.Params[i], v)
		}
	}
	explicit := cfg
	explicit.RehashLag = ref.Lag() + 1
	if err := newBgTrainer(t, explicit).Restore(st); err == nil || !strings.Contains(err.Error(), "lag") {
		t.Errorf("an explicit other lag: %v, want a refusal", err)
	}
}

// TestBackgroundLegacyPendingSnapshot: a state written before the pending
// job's parameters became a checkpoint tensor carries them as base64 in its
// JSON (pending_w0); it still resumes bit for bit.
func TestBackgroundLegacyPendingSnapshot(t *testing.T) {
	cfg := bgConfig(SamplerNTKStatic)
	ref, st := bgReferenceAndInterrupted(t, cfg)
	if !st.Pending || st.PendingW0 == nil {
		t.Fatal("no background rehash in flight")
	}
	js, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(js), "pending_w0") {
		t.Fatal("the snapshot is written into the JSON")
	}
	raw := make([]byte, 4*len(st.PendingW0))
	for i, v := range st.PendingW0 {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	legacy := strings.Replace(string(js), "{", `{"pending_w0":"`+base64.StdEncoding.EncodeToString(raw)+`",`, 1)
	var st2 State
	if err := json.Unmarshal([]byte(legacy), &st2); err != nil {
		t.Fatal(err)
	}
	st2.Params, st2.Velocity, st2.W0 = st.Params, st.Velocity, st.W0
	b := newBgTrainer(t, cfg)
	if err := b.Restore(st2); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Train(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, v := range ref.m.Params {
		if b.m.Params[i] != v {
			t.Fatalf("parameter %d differs after a legacy resume: %v vs %v", i, b.m.Params[i], v)
		}
	}
}

// TestBackgroundBlockingFirst: with BlockingFirst the first rehash blocks
// at iteration 0 — the first draws are importance-weighted, not the
// uniform warm start — and the later ones run in the background (starts
// at 25, 50, 75: one blocking and three switched rehashes).
func TestBackgroundBlockingFirst(t *testing.T) {
	cfg := bgConfig(SamplerNTKStatic)
	cfg.BlockingFirst = true
	tr := newBgTrainer(t, cfg)
	var first float64
	tr.Recorder = Observers{OnIter: func(r IterRecord) {
		if r.Iter == 0 {
			first = r.MaxWeight
		}
	}}
	res, err := tr.Train(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if first == 1 || first == 0 {
		t.Errorf("largest weight at iteration 0 is %v: the first draws are not importance-weighted", first)
	}
	if res.Final.Rehashes != 4 {
		t.Errorf("%d rehashes, want 4", res.Final.Rehashes)
	}
	bad := bgConfig(SamplerNTKStatic)
	bad.Background, bad.RehashLag, bad.BlockingFirst = false, 0, true
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "blocking-first-rehash") {
		t.Errorf("without background: %v", err)
	}
}

// TestBackgroundBlockingFirstUnbiased: with BlockingFirst the draws are
// unbiased after the blocking first rehash (no uniform warm start: they
// are importance-weighted from the start) and after the next rehash,
// switched in from the background with the parameters moved on.
func TestBackgroundBlockingFirstUnbiased(t *testing.T) {
	if testing.Short() {
		t.Skip("Monte-Carlo test")
	}
	for _, s := range []string{SamplerNTKStatic, SamplerNTKDrift, SamplerLSH} {
		tr, m, move := bgUnbiasedTrainer(t, s, true, 5)
		if err := tr.rehash(); err != nil { // the loop's blocking first rehash
			t.Fatal(err)
		}
		if tr.drawsUniform() {
			t.Fatalf("%s: uniform after the blocking first rehash", s)
		}
		move()
		checkUnbiased(t, s+" after the blocking first rehash", tr)
		tr.startBackground(0, m.Params)
		move()
		if err := tr.switchBackground(); err != nil {
			t.Fatal(err)
		}
		move()
		checkUnbiased(t, s+" after a background switch following a blocking first rehash", tr)
	}
}

// bgUnbiasedTrainer is the small background-rehash trainer of the
// unbiasedness tests (120 points, automatic refresh, lag 5), its model, and
// a move of the parameters by N(0, 0.05²) steps from a stream seeded by seed.
func bgUnbiasedTrainer(t *testing.T, sampler string, blockingFirst bool, seed uint64) (*Trainer, *nn.MLP, func()) {
	t.Helper()
	m, _ := nn.New(nn.Config{In: 3, Out: 1, Hidden: []int{4}, Activation: nn.Tanh, Seed: 2})
	cfg := testConfig(sampler)
	cfg.Batch = 4
	cfg.Hash.K, cfg.Hash.L = 3, 4
	cfg.Background, cfg.BlockingFirst, cfg.RehashLag, cfg.RehashAuto = true, blockingFirst, 5, true
	tr, err := NewTrainer(testBackend, m, smallTeacher(120, 3, 1, 5), nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	return tr, m, func() {
		for i := range m.Params {
			m.Params[i] += float32(0.05 * rng.NormFloat64())
		}
	}
}

// bgReferenceAndInterrupted trains cfg to the end (the reference) and,
// separately, to an interruption after iteration 29, whose state it
// returns.
func bgReferenceAndInterrupted(t *testing.T, cfg Config) (*Trainer, State) {
	t.Helper()
	ref := newBgTrainer(t, cfg)
	if _, err := ref.Train(context.Background()); err != nil {
		t.Fatal(err)
	}
	a := newBgTrainer(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	a.Recorder = Observers{OnIter: func(r IterRecord) {
		if r.Iter == 29 {
			cancel()
		}
	}}
	if _, err := a.Train(ctx); err == nil {
		t.Fatal("not interrupted")
	}
	return ref, a.State()
}
