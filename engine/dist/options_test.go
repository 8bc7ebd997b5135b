package dist

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/ntklsh/ntklsh/engine"
	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/nn"
)

// stepOptions are the host stepper's options a distributed run supports,
// each with a sampler.
var stepOptions = []struct {
	name string
	set  func(c *engine.Config)
}{
	{"keep-stepping", func(c *engine.Config) { c.KeepStepping = 3 }},
	{"keep-stepping+clip+momentum", func(c *engine.Config) { c.KeepStepping = 2; c.ClipNorm = 0.3; c.Momentum = 0.5 }},
	{"gn", func(c *engine.Config) { c.StepSize = engine.StepGN; c.LR = 1 }},
	{"gn+momentum+keep-stepping", func(c *engine.Config) {
		c.StepSize = engine.StepGN
		c.LR = 1
		c.Momentum = 0.5
		c.KeepStepping = 2
	}},
}

// sameEvals reports the first evaluation field (losses, diagnostics, ESS,
// largest weight, extra steps) where a and b differ in their bits.
func sameEvals(a, b []engine.Eval) error {
	if len(a) != len(b) {
		return fmt.Errorf("%d evaluation rows, want %d", len(a), len(b))
	}
	bits := func(e engine.Eval) []uint64 {
		v := []float64{e.TrainLoss, e.SecondMoment, e.Ideal, e.KL, e.ESS, e.MaxWeight, float64(e.ExtraSteps), float64(e.NonEmpty)}
		out := make([]uint64, len(v))
		for i, x := range v {
			out[i] = math.Float64bits(x)
		}
		return out
	}
	for k := range a {
		if !slices.Equal(bits(a[k]), bits(b[k])) {
			return fmt.Errorf("row %d (iteration %d): %+v, want %+v", k, a[k].Iter, a[k], b[k])
		}
	}
	return nil
}

// TestOneRankOptionsBitIdentical: with keep-stepping, the gn step size,
// momentum and clipping, one rank reproduces the single-process run bit
// for bit — final weights and every evaluation row's losses, diagnostics
// (second-moment ratio, ideal, KL), ESS, largest weight and extra steps.
func TestOneRankOptionsBitIdentical(t *testing.T) {
	ds := teacher(t, 300, 3)
	for _, o := range stepOptions {
		for _, s := range []string{engine.SamplerUniform, engine.SamplerLSH} {
			cfg := testConfig(s)
			o.set(&cfg)
			m := model(t, 1)
			want := singleTrain(t, m, ds, cfg)
			got, res := distTrain(t, 1, ds, cfg, 1)
			if !slices.Equal(got, m.Params) {
				t.Errorf("%s %s: one rank's weights differ from the single-process run's", o.name, s)
			}
			if err := sameEvals(res.Evals, want.Evals); err != nil {
				t.Errorf("%s %s: %v", o.name, s, err)
			}
			if cfg.KeepStepping > 0 && want.Final.ExtraSteps == 0 {
				t.Errorf("%s %s: no extra step taken: the test does not exercise keep-stepping", o.name, s)
			}
		}
	}
}

// allRanksTrain trains a model of newModel on R in-process ranks, the rows
// of ds split by Range, and returns every rank's final parameters and
// rank 0's result.
func allRanksTrain(t *testing.T, R int, ds *data.Dataset, cfg engine.Config, newModel func() *nn.MLP) ([][]float32, *engine.Result) {
	params := make([][]float32, R)
	var res0 *engine.Result
	err := onRanks(R, func(c Comm) error {
		lo, hi := Range(ds.N, c.Rank(), R)
		m := newModel()
		run, err := NewRun(c, be, m, Rows(ds, lo, hi), nil, cfg, "", Options{})
		if err != nil {
			return err
		}
		res, err := run.Train(context.Background())
		if err != nil {
			return fmt.Errorf("rank %d: %w", c.Rank(), err)
		}
		params[c.Rank()] = m.Params
		if c.Rank() == 0 {
			res0 = res
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return params, res0
}

// TestRanksAgreeOptions: with R = 2 and 3 (unequal shards: c_r ≠ 1) every
// option ends with the same parameters, bit for bit, on every rank — the
// line search's decisions and the gn step size come from summed values —
// and the run learns (its final train loss is below the initial one).
func TestRanksAgreeOptions(t *testing.T) {
	for _, o := range stepOptions {
		for _, R := range []int{2, 3} {
			cfg := testConfig(engine.SamplerLSH)
			o.set(&cfg)
			params, res := allRanksTrain(t, R, teacher(t, 300, 3), cfg, func() *nn.MLP { return model(t, 1) })
			for r := 1; r < R; r++ {
				if !slices.Equal(params[r], params[0]) {
					t.Errorf("%s R=%d: rank %d's parameters differ from rank 0's", o.name, R, r)
				}
			}
			if first, last := res.Evals[0].TrainLoss, res.Final.TrainLoss; !(last < first) {
				t.Errorf("%s R=%d: train loss %g → %g", o.name, R, first, last)
			}
			if cfg.KeepStepping > 0 && res.Final.ExtraSteps == 0 {
				t.Errorf("%s R=%d: no extra step taken", o.name, R)
			}
		}
	}
}

// TestNewtonRefused: the newton step size is refused by name.
func TestNewtonRefused(t *testing.T) {
	ds := teacher(t, 100, 3)
	cfg := testConfig(engine.SamplerUniform)
	cfg.StepSize = engine.StepNewton
	err := onRanks(2, func(c Comm) error {
		lo, hi := Range(ds.N, c.Rank(), 2)
		run, err := NewRun(c, be, model(t, 1), Rows(ds, lo, hi), nil, cfg, "", Options{})
		if err != nil {
			return err
		}
		_, err = run.Train(context.Background())
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "step-size newton is not supported in a data-parallel run") {
		t.Errorf("newton: %v", err)
	}
}

// TestGlobalDiagnostics: with R ranks, the evaluation's second-moment
// ratio, ideal ratio and KL are the global estimator's — computed directly
// over the union of the shards with each point's global probability
// (m_r/B)·p_r(i) and the global N — not a shard-weighted mean; the
// diagnostics subset covers every shard (DiagSubset ≥ N_r), so the values
// must agree to rounding.
func TestGlobalDiagnostics(t *testing.T) {
	ds := teacher(t, 121, 5)
	for _, R := range []int{2, 3} {
		for _, s := range []string{engine.SamplerLSH, engine.SamplerNTKStatic, engine.SamplerUniform} {
			cfg := testConfig(s)
			cfg.Batch = 7
			cfg.Iters = 40
			cfg.DiagSubset = ds.N
			g := make([][]float64, R)
			p := make([][]float64, R)
			var final engine.Eval
			var l Layout
			err := onRanks(R, func(c Comm) error {
				r := c.Rank()
				lo, hi := Range(ds.N, r, R)
				run, err := NewRun(c, be, model(t, 1), Rows(ds, lo, hi), nil, cfg, "", Options{})
				if err != nil {
					return err
				}
				res, err := run.Train(context.Background())
				if err != nil {
					return err
				}
				n := hi - lo
				g[r], p[r] = make([]float64, n), make([]float64, n)
				run.Trainer.GradNorms(nil, g[r])
				if !run.Trainer.SamplerProbs(nil, p[r]) {
					return fmt.Errorf("rank %d: no probabilities", r)
				}
				share := float64(run.Layout.Batch[r]) / float64(run.Layout.B())
				for i := range p[r] {
					p[r][i] *= share
				}
				if r == 0 {
					final, l = res.Final, run.Layout
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			ratio, ideal, kl := engine.WeightedSecondMomentRatio(slices.Concat(g...), slices.Concat(p...), nil, l.N())
			for _, c := range []struct {
				name      string
				got, want float64
			}{{"ratio", final.SecondMoment, ratio}, {"ideal", final.Ideal, ideal}, {"KL", final.KL, kl}} {
				if !(math.Abs(c.got-c.want) <= 1e-9*math.Abs(c.want)+1e-12) {
					t.Errorf("R=%d %s: %s %v, computed over the union %v", R, s, c.name, c.got, c.want)
				}
			}
			t.Logf("R=%d %s: ratio %.6g ideal %.6g KL %.4g ESS %.4g", R, s, final.SecondMoment, final.Ideal, final.KL, final.ESS)
		}
	}
}

// classes is a 3-class problem: the teacher's inputs with one-hot labels
// of its largest output.
func classes(t testing.TB, n int) *data.Dataset {
	ds, err := data.Teacher(data.TeacherConfig{N: n, D: 4, Hidden: 8, O: 3, TailDOF: 3, Noise: 0.05, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		y := ds.Y[i*3 : i*3+3]
		k := 0
		for j := range y {
			if y[j] > y[k] {
				k = j
			}
		}
		for j := range y {
			y[j] = 0
		}
		y[k] = 1
	}
	return ds
}

// TestXentDistributed: the cross-entropy loss goes through the same host
// stepper: one rank is bit-identical to the single process (weights,
// losses, accuracy, cross-entropy of every row), and with R = 2 the
// ranks agree and the reduced train accuracy and cross-entropy are the
// whole set's at the final parameters.
func TestXentDistributed(t *testing.T) {
	ds := classes(t, 240)
	cfg := testConfig(engine.SamplerLSH)
	cfg.Loss = "xent"
	cfg.Momentum = 0.5
	newModel := func() *nn.MLP {
		m, err := nn.New(nn.Config{In: 4, Out: 3, Hidden: []int{8}, Activation: nn.Tanh, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	m := newModel()
	want := singleTrain(t, m, ds, cfg)
	for _, R := range []int{1, 2} {
		params, res0 := allRanksTrain(t, R, ds, cfg, newModel)
		got := res0.Final
		if R == 1 {
			if !slices.Equal(params[0], m.Params) {
				t.Error("xent: one rank's weights differ from the single-process run's")
			}
			if err := sameEvals(res0.Evals, want.Evals); err != nil {
				t.Errorf("xent: %v", err)
			}
			if got.TrainAccuracy != want.Final.TrainAccuracy || got.TrainXent != want.Final.TrainXent {
				t.Errorf("xent: accuracy %v, cross-entropy %v; single process %v, %v", got.TrainAccuracy, got.TrainXent, want.Final.TrainAccuracy, want.Final.TrainXent)
			}
			continue
		}
		if !slices.Equal(params[1], params[0]) {
			t.Error("xent R=2: the ranks' parameters differ")
		}
		// The whole set's metrics at the final parameters.
		mf := newModel()
		copy(mf.Params, params[0])
		ref, err := engine.NewTrainer(be, mf, ds, nil, cfg)
		if err != nil {
			t.Fatal(err)
		}
		mt := ref.Passes().Metrics(mf.Params, ds.X, ds.Y, ds.N, true)
		for _, c := range []struct {
			name      string
			got, want float64
		}{{"loss", got.TrainLoss, mt.Loss}, {"accuracy", got.TrainAccuracy, mt.Accuracy}, {"cross-entropy", got.TrainXent, mt.CrossEntropy}} {
			if !(math.Abs(c.got-c.want) <= 1e-9*math.Abs(c.want)) {
				t.Errorf("xent R=2: reduced train %s %v, whole set %v", c.name, c.got, c.want)
			}
		}
	}
}
