package dist

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ntklsh/ntklsh/engine"
	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/engine/sample"
	"github.com/ntklsh/ntklsh/kernels"
)

var be = func() kernels.Backend {
	b, _, err := kernels.Default()
	if err != nil {
		panic(err)
	}
	return b
}()

func teacher(t testing.TB, n int, seed uint64) *data.Dataset {
	ds, err := data.Teacher(data.TeacherConfig{N: n, D: 4, Hidden: 8, O: 1, TailDOF: 3, Noise: 0.05, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func model(t testing.TB, seed uint64) *nn.MLP {
	m, err := nn.New(nn.Config{In: 4, Out: 1, Hidden: []int{8}, Activation: nn.Tanh, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func testConfig(s string) engine.Config {
	c := engine.DefaultConfig()
	c.Sampler = s
	c.Iters = 120
	c.Batch = 8
	c.LR = 0.05
	c.DiagSubset = 50
	c.RehashBatch = 64
	c.Hash.K, c.Hash.L = 3, 8
	c.Workers = 1
	return c
}

// onRanks runs f on every rank of an in-process group of R and returns
// the first error.
func onRanks(R int, f func(c Comm) error) error {
	comms := Local(R)
	errs := make([]error, R)
	var wg sync.WaitGroup
	for r := range comms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[r] = f(comms[r])
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// distTrain trains a fresh model on R in-process ranks, the training rows
// split by Range, and returns rank 0's final parameters and result.
func distTrain(t testing.TB, R int, ds *data.Dataset, cfg engine.Config, mseed uint64) ([]float32, *engine.Result) {
	var params []float32
	var res0 *engine.Result
	err := onRanks(R, func(c Comm) error {
		lo, hi := Range(ds.N, c.Rank(), R)
		m := model(t, mseed)
		run, err := NewRun(c, be, m, Rows(ds, lo, hi), nil, cfg, "", Options{CheckEvery: 10})
		if err != nil {
			return err
		}
		res, err := run.Train(context.Background())
		if err != nil {
			return fmt.Errorf("rank %d: %w", c.Rank(), err)
		}
		if c.Rank() == 0 {
			params, res0 = m.Params, res
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return params, res0
}

// singleTrain trains m on ds in one process.
func singleTrain(t testing.TB, m *nn.MLP, ds *data.Dataset, cfg engine.Config) *engine.Result {
	t.Helper()
	tr, err := engine.NewTrainer(be, m, ds, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tr.Train(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestOneRankBitIdentical: one rank reproduces the single-process run bit
// for bit (final weights and evaluation rows), for every kind of sampler,
// with momentum and clipping.
func TestOneRankBitIdentical(t *testing.T) {
	ds := teacher(t, 300, 3)
	for _, s := range []string{engine.SamplerUniform, engine.SamplerLSH, engine.SamplerNTKStatic, engine.SamplerLoss} {
		for _, mom := range []float64{0, 0.5} {
			cfg := testConfig(s)
			cfg.Momentum = mom
			cfg.ClipNorm = 0.5 * mom
			m := model(t, 1)
			want := singleTrain(t, m, ds, cfg)
			got, res := distTrain(t, 1, ds, cfg, 1)
			if !slices.Equal(got, m.Params) {
				t.Errorf("%s momentum %g: one rank's weights differ from the single-process run's", s, mom)
			}
			if len(res.Evals) != len(want.Evals) || res.Final.TrainLoss != want.Final.TrainLoss {
				t.Errorf("%s: final train loss %v, single process %v", s, res.Final.TrainLoss, want.Final.TrainLoss)
			}
		}
	}
}

// unbiasedData is the set and the parameters of the unbiasedness tests:
// N = 121 rows (shards of unequal sizes for R = 2, 4), the rehash point m0
// and the query point mq away from it, and the full gradient at mq.
func unbiasedData(t testing.TB) (ds *data.Dataset, m0, mq *nn.MLP, full []float64) {
	ds = teacher(t, 121, 5)
	m0 = model(t, 2)
	mq = m0.Clone()
	prng := rand.New(rand.NewPCG(4, 4))
	for i := range mq.Params {
		mq.Params[i] += float32(0.05 * prng.NormFloat64())
	}
	// Full gradient (1/N) Σ ∇ℓ_i: one "rank" drawing every point with
	// weight 1.
	c := Local(1)[0]
	m := mq.Clone()
	l := Layout{Ranks: 1, Train: []int{ds.N}, Test: []int{0}, Batch: []int{ds.N}}
	cfg := testConfig(engine.SamplerUniform)
	cfg.Batch = ds.N
	tr, err := engine.NewTrainer(be, m, ds, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	st := NewStepper(c, be, tr, l)
	if err := st.Start(cfg, m.Params); err != nil {
		t.Fatal(err)
	}
	idx := make([]int, ds.N)
	w := make([]float64, ds.N)
	for i := range idx {
		idx[i], w[i] = i, 1
	}
	if _, _, err := st.Step(idx, w, 0); err != nil {
		t.Fatal(err)
	}
	full = make([]float64, len(st.grad))
	for j, g := range st.grad {
		full[j] = float64(g)
	}
	return ds, m0, mq, full
}

// drawGradients is one rank's part of the unbiasedness test: it builds the
// rank's sampler over its shard (rehashed at m0), and draws draws
// minibatches of B = 6 at mq, all-reducing each one's gradient (a step of
// learning rate 0); when sum is not nil it accumulates the all-reduced
// gradients and their squares.
func drawGradients(c Comm, ds *data.Dataset, m0, mq *nn.MLP, s string, draws int, sum, sum2 []float64) error {
	r, R := c.Rank(), c.Size()
	lo, hi := Range(ds.N, r, R)
	m := m0.Clone()
	cfg := testConfig(s)
	cfg.Batch = 6
	run, err := NewRun(c, be, m, Rows(ds, lo, hi), nil, cfg, "", Options{})
	if err != nil {
		return err
	}
	if sample.NeedsLinearization(run.Trainer.Sampler()) {
		if err := run.Trainer.Rehash(); err != nil {
			return err
		}
	}
	copy(m.Params, mq.Params)
	st := run.Stepper
	if err := st.Start(run.Config, m.Params); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(9, uint64(r)))
	idx := make([]int, run.Config.Batch)
	w := make([]float64, run.Config.Batch)
	for d := 0; d < draws; d++ {
		if err := run.Trainer.Sampler().Draw(rng, m.Params, idx, w); err != nil {
			return err
		}
		if _, _, err := st.Step(idx, w, 0); err != nil {
			return err
		}
		if sum != nil {
			for j, g := range st.grad {
				sum[j] += float64(g)
				sum2[j] += float64(g) * float64(g)
			}
		}
	}
	return nil
}

// worstZ is the largest |mean − full|/standard error over the coordinates.
func worstZ(sum, sum2, full []float64, draws int) float64 {
	worst := 0.0
	n := float64(draws)
	for j := range sum {
		mean := sum[j] / n
		v := sum2[j]/n - mean*mean
		se := math.Sqrt(v/n) + 1e-9
		worst = math.Max(worst, math.Abs(mean-full[j])/se)
	}
	return worst
}

// unbiasedSamplers are the samplers the unbiasedness tests cover.
var unbiasedSamplers = []string{engine.SamplerUniform, engine.SamplerLSH, engine.SamplerNTKStatic, engine.SamplerNTKExact}

// TestStratifiedGradientUnbiased: with the parameters held fixed, the mean
// of many all-reduced minibatch gradients of R ranks, each drawing its m_r
// points from its own shard's sampler, matches the full gradient of the
// whole set within a confidence interval — with shards and per-rank draws
// of unequal sizes (N = 121, B = 6 over 4 ranks: m = 2, 2, 1, 1), where
// the weights' scale c_r is not 1.
func TestStratifiedGradientUnbiased(t *testing.T) {
	if testing.Short() {
		t.Skip("Monte-Carlo test")
	}
	ds, m0, mq, full := unbiasedData(t)
	P := len(full)
	for _, R := range []int{2, 4} {
		for _, s := range unbiasedSamplers {
			const draws = 12000
			sum, sum2 := make([]float64, P), make([]float64, P)
			err := onRanks(R, func(c Comm) error {
				if c.Rank() == 0 {
					return drawGradients(c, ds, m0, mq, s, draws, sum, sum2)
				}
				return drawGradients(c, ds, m0, mq, s, draws, nil, nil)
			})
			if err != nil {
				t.Fatal(err)
			}
			// P = 49 coordinates: |z| > 4.5 anywhere has probability < 4e-4.
			if worst := worstZ(sum, sum2, full, draws); worst > 4.5 {
				t.Errorf("R=%d %s: the mean all-reduced gradient differs from the full gradient by %.1f standard errors", R, s, worst)
			}
		}
	}
}

// TestConvergenceMatchesSingleProcess: at the same global batch, the final
// train loss of R = 2 and 4 ranks is within the seed-to-seed spread of the
// single-process runs'.
func TestConvergenceMatchesSingleProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 12 models")
	}
	ds := teacher(t, 400, 7)
	for _, s := range []string{engine.SamplerUniform, engine.SamplerLSH} {
		var single []float64
		cfg := testConfig(s)
		cfg.Iters = 200
		for seed := uint64(1); seed <= 4; seed++ {
			cfg.Seed = seed
			single = append(single, singleTrain(t, model(t, 1), ds, cfg).Final.TrainLoss)
		}
		mean, sd := meanSD(single)
		for _, R := range []int{2, 4} {
			cfg.Seed = 1
			_, res := distTrain(t, R, ds, cfg, 1)
			got := res.Final.TrainLoss
			if math.Abs(got-mean) > 4*sd+0.05*mean {
				t.Errorf("%s R=%d: final train loss %.4g, single process %.4g ± %.2g over seeds", s, R, got, mean, sd)
			}
			t.Logf("%s R=%d: final train loss %.4g; single process %.4g ± %.2g (initial %.4g)", s, R, got, mean, sd, res.Evals[0].TrainLoss)
		}
	}
}

func meanSD(v []float64) (float64, float64) {
	var s, s2 float64
	for _, x := range v {
		s += x
		s2 += x * x
	}
	n := float64(len(v))
	m := s / n
	return m, math.Sqrt(math.Max(0, s2/n-m*m) * n / (n - 1))
}

func TestRange(t *testing.T) {
	for _, n := range []int{0, 1, 7, 100, 101} {
		for R := 1; R <= 5; R++ {
			prev := 0
			for r := 0; r < R; r++ {
				lo, hi := Range(n, r, R)
				if lo != prev || hi < lo || hi-lo > n/R+1 || hi-lo < n/R {
					t.Fatalf("Range(%d, %d, %d) = [%d, %d)", n, r, R, lo, hi)
				}
				prev = hi
			}
			if prev != n {
				t.Fatalf("n=%d R=%d: ranges end at %d", n, R, prev)
			}
		}
	}
}

func TestLayoutScale(t *testing.T) {
	l := Layout{Ranks: 2, Train: []int{50, 50}, Test: []int{0, 0}, Batch: []int{4, 4}}
	if l.Scale(0) != 1 || l.Scale(1) != 1 {
		t.Errorf("even split: scale %v %v, want 1", l.Scale(0), l.Scale(1))
	}
	l = Layout{Ranks: 2, Train: []int{60, 40}, Test: []int{0, 0}, Batch: []int{5, 4}}
	// c_r = (B/m_r)(N_r/N)
	if got, want := l.Scale(0), 9.0/5*0.6; math.Abs(got-want) > 1e-15 {
		t.Errorf("scale %v, want %v", got, want)
	}
	// Σ_r m_r c_r N/(B N_r) = R: each stratum's expected weight sum is right.
	if err := (Layout{Ranks: 3, Train: []int{2, 0, 2}, Batch: []int{1, 1, 0}, Files: []string{"a", "b", "c"}}).Check(); err == nil ||
		!strings.Contains(err.Error(), "rank 1 (b) has no training rows") || !strings.Contains(err.Error(), "rank 2 draws no point") {
		t.Errorf("Check: %v", err)
	}
}

// TestAgree: every rank gets one error naming the lowest failing rank.
func TestAgree(t *testing.T) {
	const R = 4
	got := make([]error, R)
	onRanks(R, func(c Comm) error {
		var err error
		if c.Rank() >= 2 {
			err = fmt.Errorf("shard-%d.csv: line 3: ragged row", c.Rank())
		}
		got[c.Rank()] = Agree(c, err)
		return nil
	})
	for r, err := range got {
		var re *RankError
		if !errors.As(err, &re) || re.Rank != 2 || err.Error() != "rank 2: shard-2.csv: line 3: ragged row (and 1 more ranks failed)" {
			t.Errorf("rank %d got %v", r, err)
		}
	}
	onRanks(3, func(c Comm) error {
		if err := Agree(c, nil); err != nil {
			t.Errorf("no failure: %v", err)
		}
		if err := Agree(c, errors.New("bad flag")); err == nil || err.Error() != "every rank: bad flag" {
			t.Errorf("every rank failing alike: %v", err)
		}
		return nil
	})
}

// TestCheckParams: a rank whose parameters differ is named.
func TestCheckParams(t *testing.T) {
	onRanks(3, func(c Comm) error {
		p := []float32{1, 2, 3}
		if c.Rank() == 2 {
			p[1] = 2.0000002
		}
		err := CheckParams(c, p, 10)
		if err == nil || !strings.Contains(err.Error(), "rank(s) [2]") {
			t.Errorf("rank %d: %v", c.Rank(), err)
		}
		return nil
	})
}

// TestFitStandardizer: the statistics fitted over the shards are those of
// the whole set.
func TestFitStandardizer(t *testing.T) {
	ds := teacher(t, 101, 3)
	want := data.FitStandardizer(ds, true)
	onRanks(3, func(c Comm) error {
		lo, hi := Range(ds.N, c.Rank(), 3)
		got, err := FitStandardizer(c, Rows(ds, lo, hi), true)
		if err != nil {
			return err
		}
		for j := range want.XMean {
			if math.Abs(got.XMean[j]-want.XMean[j]) > 1e-12 || math.Abs(got.XStd[j]/want.XStd[j]-1) > 1e-12 {
				t.Errorf("column %d: %v %v, want %v %v", j, got.XMean[j], got.XStd[j], want.XMean[j], want.XStd[j])
			}
		}
		return nil
	})
}

// TestResumeBitIdentical: a 2-rank run interrupted, checkpointed (state
// and rank states) and resumed ends with the weights of the run that was
// not interrupted; a state of another number of ranks is refused.
func TestResumeBitIdentical(t *testing.T) {
	ds := teacher(t, 200, 3)
	cfg := testConfig(engine.SamplerLSH)
	cfg.Momentum = 0.5
	cfg.Iters = 60
	cfg.QueryEvery = 3 // the checkpoint at 25 falls inside a query's draws
	want, wantRes := distTrain(t, 2, ds, cfg, 1)
	var states [2]engine.State
	var ranks []RankState
	onRanks(2, func(c Comm) error {
		lo, hi := Range(ds.N, c.Rank(), 2)
		run, err := NewRun(c, be, model(t, 1), Rows(ds, lo, hi), nil, cfg, "", Options{})
		if err != nil {
			return err
		}
		ctx, cancel := context.WithCancel(context.Background())
		run.Trainer.CheckpointEvery = 25
		run.Trainer.OnCheckpoint = func(engine.State) error {
			st, rs, err := run.State()
			states[c.Rank()] = st
			if c.Rank() == 0 {
				ranks = rs
			}
			cancel()
			return err
		}
		_, err = run.Train(ctx)
		if _, ok := errors.AsType[*engine.InterruptedError](err); !ok {
			t.Errorf("rank %d: %v", c.Rank(), err)
		}
		return nil
	})
	var got []float32
	var gotRes *engine.Result
	err := onRanks(2, func(c Comm) error {
		lo, hi := Range(ds.N, c.Rank(), 2)
		m := model(t, 1)
		run, err := NewRun(c, be, m, Rows(ds, lo, hi), nil, cfg, "", Options{})
		if err != nil {
			return err
		}
		if err := run.Restore(states[0], ranks); err != nil { // rank 0's state, as the checkpoint holds
			return err
		}
		res, err := run.Train(context.Background())
		if err != nil {
			return err
		}
		if c.Rank() == 0 {
			got, gotRes = m.Params, res
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Error("the resumed 2-rank run's weights differ from the uninterrupted run's")
	}
	// Every evaluation row, the global ESS and largest weight included
	// (each rank's weight sums since the last row are in its RankState).
	if err := sameEvals(gotRes.Evals, wantRes.Evals); err != nil {
		t.Errorf("the resumed 2-rank run's evaluations: %v", err)
	}
	onRanks(1, func(c Comm) error {
		run, err := NewRun(c, be, model(t, 1), ds, nil, cfg, "", Options{})
		if err != nil {
			return err
		}
		if err := run.Restore(states[0], ranks); err == nil || !strings.Contains(err.Error(), "written by a run of 2 rank(s), this job has 1") {
			t.Errorf("resume with another R: %v", err)
		}
		return nil
	})
}

// TestNewRunRefusesUnsupported: settings a distributed run cannot honour
// are refused by the engine API itself (not only by the CLI), on every rank.
func TestNewRunRefusesUnsupported(t *testing.T) {
	ds := teacher(t, 64, 3)
	for _, c := range []struct {
		field string
		set   func(*engine.Config)
	}{
		{"Background", func(c *engine.Config) { c.Background, c.RehashLag = true, 4 }},
		{"RehashAuto", func(c *engine.Config) { c.RehashAuto = true }},
	} {
		cfg := testConfig(engine.SamplerNTKStatic)
		c.set(&cfg)
		var errs [2]error
		onRanks(2, func(cm Comm) error {
			_, errs[cm.Rank()] = NewRun(cm, be, model(t, 1), Rows(ds, 32*cm.Rank(), 32*cm.Rank()+32), nil, cfg, "", Options{})
			return nil
		})
		for r, err := range errs {
			if err == nil || !strings.Contains(err.Error(), c.field) {
				t.Errorf("%s on rank %d: %v", c.field, r, err)
			}
		}
	}
}
