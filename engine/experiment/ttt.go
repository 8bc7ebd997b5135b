package experiment

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/ntklsh/ntklsh/engine"
	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/nn"
)

// The time-to-target experiment answers "which sampler gets my model to a
// given test loss first, in seconds?" under MLPerf Training / DAWNBench
// rules: every method has its learning rate and schedule tuned on a
// validation split carved from the training set, with the same budget;
// the quality target is a test loss the tuned baseline (uniform SGD)
// reaches at about 90 % of its budget; time to target counts only
// training seconds (Eval.TrainSeconds) up to the first evaluation at or
// below the target after which the loss stays below 1.1 × target; several
// seeds give a ratio of medians with a bootstrap interval. A diverging run is
// recorded and the experiment goes on.

// TTTMethod is one method of the time-to-target experiment: a sampler and
// optimizer setting whose Batch, Iters, LR, Schedule, EvalEvery, Seed,
// DiagSubset and Workers the experiment sets.
type TTTMethod struct {
	Name string
	Cfg  engine.Config
	// LRMult scales the learning-rate grid for this method (0: 1); heavy
	// -ball momentum μ uses 1−μ, so that the grid covers the same
	// effective step lr/(1−μ).
	LRMult float64
	// WarmupFrac sets Config.Warmup to this fraction of each run's
	// iterations (0: none).
	WarmupFrac float64
	// Oracle marks the O(N·P)-per-step samplers (true, ntk-exact, loss):
	// their seconds are not comparable and only iterations are reported.
	Oracle bool
}

func (m TTTMethod) lrMult() float64 {
	if m.LRMult > 0 {
		return m.LRMult
	}
	return 1
}

// TTTMethods returns the methods of the time-to-target experiment:
// uniform SGD, uniform with gradient-norm clipping at clip, uniform with
// momentum 0.9, ntk-static, lsh with the engine's default hashing, lsh with
// the paper's (query paper, K 2, L 64), upper-bound, uniform and ntk-static
// with the Gauss–Newton step size (-gn, the grid's lr its cap); with keep > 0 each
// also with the keep-stepping optimizer (+ks); with oracles the O(N·P)
// samplers true, ntk-exact and loss.
func TTTMethods(keep int, growth, clip float64, oracles bool) []TTTMethod {
	base := engine.DefaultConfig()
	base.RehashEvery, base.RehashEpochs = 0, 1
	base.DiagSubset = 0
	mk := func(name, sampler string, f func(*engine.Config)) TTTMethod {
		c := base
		c.Sampler = sampler
		if f != nil {
			f(&c)
		}
		return TTTMethod{Name: name, Cfg: c}
	}
	ms := []TTTMethod{
		mk("uniform", engine.SamplerUniform, nil),
		mk("uniform-clip", engine.SamplerUniform, func(c *engine.Config) { c.ClipNorm = clip }),
		mk("uniform-mom", engine.SamplerUniform, func(c *engine.Config) { c.Momentum = 0.9 }),
		mk("ntk-static", engine.SamplerNTKStatic, nil),
		// ntk-static with its rehashes off the critical path and
		// refreshed when the running second-moment estimate says so.
		mk("ntk-static-bg-auto", engine.SamplerNTKStatic, func(c *engine.Config) { c.Background, c.RehashAuto = true, true }),
		mk("ntk-drift", engine.SamplerNTKDrift, nil),
		// Importance sampling with the practitioner's fixes of the
		// baselines: the large runs showed clipping and momentum
		// deciding the race on their own.
		mk("ntk-static-clip", engine.SamplerNTKStatic, func(c *engine.Config) { c.ClipNorm = clip }),
		mk("ntk-static-mom", engine.SamplerNTKStatic, func(c *engine.Config) { c.Momentum = 0.9 }),
		// Both fixes, for the baseline and for importance sampling; and
		// importance sampling that refreshes its tables when its running
		// second-moment estimate says the refresh pays (--rehash auto),
		// with the fixes, blocking or in the background.
		mk("uniform-mom-clip", engine.SamplerUniform, func(c *engine.Config) { c.Momentum, c.ClipNorm = 0.9, clip }),
		mk("ntk-static-auto-clip", engine.SamplerNTKStatic, func(c *engine.Config) { c.RehashAuto, c.ClipNorm = true, clip }),
		mk("ntk-static-auto-mom", engine.SamplerNTKStatic, func(c *engine.Config) { c.RehashAuto, c.Momentum = true, 0.9 }),
		mk("ntk-static-auto-mom-clip", engine.SamplerNTKStatic, func(c *engine.Config) { c.RehashAuto, c.Momentum, c.ClipNorm = true, 0.9, clip }),
		mk("ntk-static-bg-auto-mom", engine.SamplerNTKStatic, func(c *engine.Config) { c.Background, c.RehashAuto, c.Momentum = true, true, 0.9 }),
		// The same with a blocking first rehash instead of the uniform
		// warm start.
		mk("ntk-static-bgb-auto-mom", engine.SamplerNTKStatic, func(c *engine.Config) {
			c.Background, c.BlockingFirst, c.RehashAuto, c.Momentum = true, true, true, 0.9
		}),
		// ntk-drift (exact norms at the refresh plus a bound on the drift
		// since) with the same recipes.
		mk("ntk-drift-auto-mom", engine.SamplerNTKDrift, func(c *engine.Config) { c.RehashAuto, c.Momentum = true, 0.9 }),
		mk("ntk-drift-auto-clip", engine.SamplerNTKDrift, func(c *engine.Config) { c.RehashAuto, c.ClipNorm = true, clip }),

		mk("lsh", engine.SamplerLSH, nil),
		mk("lsh-paper", engine.SamplerLSH, func(c *engine.Config) { c.Hash = PaperHash() }),
		// lsh drawing 8 minibatches from each query (exact weights for
		// the query in use): an eighth of the query's projections.
		mk("lsh-q8", engine.SamplerLSH, func(c *engine.Config) { c.QueryEvery = 8 }),
		mk("lsh-q8-auto-mom", engine.SamplerLSH, func(c *engine.Config) { c.QueryEvery, c.RehashAuto, c.Momentum = 8, true, 0.9 }),
		mk("upper-bound", engine.SamplerUpperBound, nil),
		// The Gauss–Newton step size (engine.StepGN): the learning-rate
		// grid is its cap.
		mk("uniform-gn", engine.SamplerUniform, func(c *engine.Config) { c.StepSize = engine.StepGN }),
		mk("ntk-static-gn", engine.SamplerNTKStatic, func(c *engine.Config) { c.StepSize = engine.StepGN }),
	}
	// Momentum with a linear learning-rate warm-up over the first 5 % of
	// the iterations (-wu), for the baseline and importance sampling: the
	// large runs' momentum divergences came in the first few hundred steps.
	for _, n := range []string{"uniform-mom", "ntk-static-auto-mom", "ntk-static-bg-auto-mom", "ntk-static-bgb-auto-mom", "ntk-drift-auto-mom", "lsh-q8-auto-mom"} {
		for _, m := range ms {
			if m.Name == n {
				m.Name += "-wu"
				m.WarmupFrac = 0.05
				ms = append(ms, m)
			}
		}
	}
	for i := range ms {
		if ms[i].Cfg.Momentum > 0 {
			ms[i].LRMult = 0.1 // heavy-ball momentum 0.9 multiplies the step by about 10
		}
	}
	if keep > 0 {
		n := len(ms)
		for _, m := range ms[:n] {
			k := m
			k.Name += "+ks"
			k.Cfg.KeepStepping, k.Cfg.StepGrowth = keep, growth
			ms = append(ms, k)
		}
	}
	if oracles {
		for _, s := range []string{engine.SamplerTrue, engine.SamplerNTKExact, engine.SamplerLoss} {
			m := mk(s, s, nil)
			m.Oracle = true
			ms = append(ms, m)
		}
	}
	return ms
}

// SelectTTTMethods keeps the methods named in a comma-separated list (all
// when empty); the baseline "uniform" is always kept, first.
func SelectTTTMethods(ms []TTTMethod, names string) ([]TTTMethod, error) {
	if strings.TrimSpace(names) == "" {
		return ms, nil
	}
	want := map[string]bool{"uniform": true}
	for _, n := range strings.Split(names, ",") {
		n = strings.TrimSpace(n)
		found := false
		for _, m := range ms {
			found = found || m.Name == n
		}
		if !found {
			var all []string
			for _, m := range ms {
				all = append(all, m.Name)
			}
			return nil, fmt.Errorf("unknown method %q (want some of %s)", n, strings.Join(all, ", "))
		}
		want[n] = true
	}
	var out []TTTMethod
	for _, m := range ms {
		if want[m.Name] {
			out = append(out, m)
		}
	}
	return out, nil
}

// SupportedTTTMethods keeps the methods whose configuration is valid
// under loss ("" or "mse": all of them) and names each left out with the
// reason (e.g. a newton method: "step-size newton … supports the mse loss only").
func SupportedTTTMethods(ms []TTTMethod, loss string) (kept []TTTMethod, dropped []string) {
	for _, m := range ms {
		c := m.Cfg
		c.Iters, c.Batch, c.LR, c.Loss = 1, 1, 0.1, loss
		if err := c.Validate(); err != nil && loss != "" {
			why := strings.TrimPrefix(err.Error(), "engine: ")
			dropped = append(dropped, fmt.Sprintf("%s (%s)", m.Name, why))
			continue
		}
		kept = append(kept, m)
	}
	return kept, dropped
}

// LogGrid returns n learning rates log-spaced by the factor ratio, centred
// (geometrically) on mid.
func LogGrid(mid, ratio float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = mid * math.Pow(ratio, float64(i)-float64(n-1)/2)
	}
	return out
}

// TTTConfig configures one setting of the time-to-target experiment.
type TTTConfig struct {
	// Name labels the setting in file names ("paper-w32").
	Name string
	// Train is what the methods train on; Val (carved from the training
	// data) chooses the hyperparameters; Test gives the final numbers.
	Train, Val, Test *data.Dataset
	// TuneTrain, when set, replaces Train in the tuning runs (a subsample,
	// at the large scale); the budget in epochs stays the same.
	TuneTrain *data.Dataset
	Hidden    []int
	Act       nn.Activation
	Batch     int
	// Epochs is the budget of every run (tuning and final).
	Epochs float64
	// Evals is the number of evaluations per run (after the initial one).
	Evals int
	// LRs is the base learning-rate grid (log-spaced, ascending), scaled
	// per method by TTTMethod.LRMult; Schedules the schedules tried.
	LRs       []float64
	Schedules []string
	// Extend is how many grid points may be added beyond each edge, one at
	// a time, while the chosen learning rate sits at that edge (also to a
	// whole grid reused from Tuned, when Extend is larger than its run's).
	Extend    int
	TuneSeeds int
	Seeds     int
	SeedBase  uint64
	Methods   []TTTMethod
	// BlowUp stops a run, as diverged, at an evaluation whose train or
	// evaluation loss exceeds BlowUp × its initial value (0: 100) or is
	// not finite; the engine stops it on a non-finite step.
	BlowUp float64
	// TargetFrac (0: 0.9) and TargetQuantile (0: 0.8) place the target:
	// the lowest test loss that a fraction TargetQuantile of the tuned
	// baseline's seeds reach, under the time-to-target rule, by the
	// evaluation nearest TargetFrac of the budget. (The median of the
	// loss at 90 % would be reached by only about half of the baseline's
	// seeds, and a median time over seeds would then be ∞.) Stay (0: 1.1)
	// is the band the loss must stay in after reaching the target.
	TargetFrac, TargetQuantile, Stay float64
	// Bootstrap resamples for the ratio intervals (0: 2000).
	Bootstrap int
	// Workers for the rehashes and full passes (0: Env.Workers).
	Workers int
	// Note is printed in the Markdown summary (e.g. how the grid was
	// subsampled).
	Note string
	// Tuned holds, per method, the tuning grid of an earlier run of the
	// same setting (ReadTTTGrid): those methods skip their tuning and run
	// only the final seeds at the point marked Chosen — to rerun the final
	// runs on a quiet machine, their choices being deterministic.
	Tuned map[string][]GridPoint
	// CommonGrid tunes every method at every grid index that any method
	// tried (its own grid scaled by its LRMult), after the edge
	// extensions: a method whose best point lay inside its grid would
	// otherwise never see the rates another method's extension found.
	CommonGrid bool
	// Loss is the training loss of every method: "" or "mse" (regression),
	// or "xent" (classification: softmax cross-entropy over one-hot
	// targets). Under xent the loss target is a test cross-entropy and a
	// second target, a test accuracy, is set and reported the same way
	// (on the test error 1 − accuracy, lower is better).
	Loss string
}

// classify reports whether c is a classification setting (the xent loss).
func (c TTTConfig) classify() bool { return c.Loss == "xent" }

func (c TTTConfig) blowUp() float64 { return orDefault(c.BlowUp, 100) }
func (c TTTConfig) stay() float64   { return orDefault(c.Stay, 1.1) }
func (c TTTConfig) frac() float64   { return orDefault(c.TargetFrac, 0.9) }
func (c TTTConfig) quantile() float64 {
	if c.TargetQuantile > 0 && c.TargetQuantile <= 1 {
		return c.TargetQuantile
	}
	return 0.8
}

func orDefault(v, d float64) float64 {
	if v > 0 {
		return v
	}
	return d
}

func itersFor(n int, batch int, epochs float64) int {
	return max(1, int(math.Round(epochs*float64(n)/float64(batch))))
}

// TTTRun is one training run.
type TTTRun struct {
	Method   string
	Phase    string // tune or final
	LR       float64
	Schedule string
	Seed     uint64
	Iters    int
	// Evals: Eval.TestLoss is the validation loss in the tune phase and
	// the test loss in the final phase.
	Evals []engine.Eval
	// Diverged is set when the run stopped early: DivergedIter is the
	// iteration and Why the reason.
	Diverged     bool
	DivergedIter int
	Why          string
}

// tttMetric is a quality measure on an evaluation set, lower is better:
// the loss, or a classifier's error 1 − accuracy.
type tttMetric func(engine.Eval) float64

var (
	metricLoss  tttMetric = func(e engine.Eval) float64 { return e.TestLoss }
	metricError tttMetric = func(e engine.Eval) float64 { return 1 - e.TestAccuracy }
)

// finalLoss is the last evaluation loss, +Inf for a diverged run.
func (r TTTRun) finalLoss() float64 { return r.final(metricLoss) }

// final is the metric at the last evaluation, +Inf for a diverged run.
func (r TTTRun) final(m tttMetric) float64 {
	if r.Diverged || len(r.Evals) == 0 {
		return math.Inf(1)
	}
	return m(r.Evals[len(r.Evals)-1])
}

// GridPoint is one (learning rate, schedule) of a method's tuning.
type GridPoint struct {
	LR       float64
	Schedule string
	Seeds    int
	Diverged int
	ValLoss  float64 // median final validation loss over the seeds (+Inf when diverged)
	// ValAcc is the median final validation accuracy (classification; 0
	// for a diverged seed).
	ValAcc    float64
	Extension bool // added beyond the initial grid
	Chosen    bool // the method's choice (set on the points of TTTConfig.Tuned)
}

// TTTSummary is a method's result.
type TTTSummary struct {
	Method   string
	Oracle   bool
	LR       float64
	Schedule string
	ValLoss  float64
	// EdgeLow/EdgeHigh: the chosen learning rate is the smallest/largest
	// tried, even after extending the grid.
	EdgeLow, EdgeHigh bool
	Grid              []GridPoint
	// Stable is, per schedule, the widest contiguous range of grid
	// learning rates where no tuning seed diverged ([0, 0] when none).
	Stable map[string][2]float64
	// Final runs.
	Seeds, Diverged int
	// The final runs against the loss target.
	TTTReach
	// Accuracy is against the accuracy target (classification only):
	// its FinalTest is the median final test error 1 − accuracy.
	Accuracy   TTTReach
	SecPerIter float64 // median training seconds per iteration
}

// TTTReach is how a method's final runs reach one target.
type TTTReach struct {
	Reached                int
	FinalTest              float64 // median final test loss (+Inf when more than half diverged)
	SecRatio, SecLo, SecHi float64 // median seconds ÷ the baseline's, bootstrap 90 % interval
	IterRatio, IterLo      float64
	IterHi                 float64
	Seconds, ItersTo       float64 // median time and iterations to target over the seeds (+Inf: not reached)
}

// TTTResult is what RunTimeToTarget returns.
type TTTResult struct {
	Name string
	// Baseline is the method every ratio is relative to and whose final
	// runs set the target: of the plain-SGD methods (BaselineMethods), the
	// one whose target is the lowest — the best quality a practitioner's
	// tuned SGD, with its usual fixes, reaches near the end of its budget.
	Baseline string
	Target   float64 // NaN when the baseline never finished
	// AccBaseline and AccTarget are the same for the test error
	// 1 − accuracy (classification; AccTarget NaN otherwise).
	AccBaseline string
	AccTarget   float64
	// Classify: a classification setting (TTTConfig.Loss xent).
	Classify bool
	Iters    int
	Runs     []TTTRun
	Summary  []TTTSummary
	Markdown string
}

// StableTimeToTarget returns the index of the first loss at or below
// target after which every loss stays below stay × target (or at the
// target: a zero target, such as a test error of 0, is reached by staying
// at 0), or -1 (also when any loss is not finite after it: a run that
// diverges has not reached the target).
func StableTimeToTarget(loss []float64, target, stay float64) int {
	first := -1
	for i, l := range loss {
		switch {
		case !(l < stay*target || l <= target): // includes NaN
			first = -1
		case first < 0 && l <= target:
			first = i
		}
	}
	return first
}

// runOne trains one configuration; a divergence is recorded, not
// returned.
func (c TTTConfig) runOne(ctx context.Context, env Env, meth TTTMethod, phase string, lr float64, sched string, seed uint64,
	train, eval *data.Dataset) (TTTRun, error) {
	cfg := meth.Cfg
	cfg.Batch, cfg.LR, cfg.Schedule, cfg.Seed = c.Batch, lr, sched, seed
	cfg.Iters = itersFor(train.N, c.Batch, c.Epochs)
	cfg.EvalEvery = max(1, cfg.Iters/max(1, c.Evals))
	if meth.WarmupFrac > 0 {
		cfg.Warmup = max(1, int(math.Round(meth.WarmupFrac*float64(cfg.Iters))))
	}
	cfg.DiagSubset = 0
	if c.Loss != "" {
		cfg.Loss = c.Loss
	}
	cfg.Workers = c.Workers
	if cfg.Workers == 0 {
		cfg.Workers = env.Workers
	}
	run := TTTRun{Method: meth.Name, Phase: phase, LR: lr, Schedule: sched, Seed: seed, Iters: cfg.Iters}
	m, err := nn.New(nn.Config{In: train.D, Out: train.O, Hidden: c.Hidden, Activation: c.Act, Seed: seed})
	if err != nil {
		return run, err
	}
	tr, err := engine.NewTrainer(env.Backend, m, train, eval, cfg)
	if err != nil {
		return run, fmt.Errorf("%s: %w", meth.Name, err)
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var first *engine.Eval
	blew := ""
	blewAt := 0
	done := 0
	tr.Recorder = engine.Observers{
		OnIter: func(engine.IterRecord) { done++; env.Progress.Step(1) },
		OnEval: func(e engine.Eval) {
			if first == nil {
				first = &e
				return
			}
			bad := func(l, l0 float64) bool { return math.IsNaN(l) || math.IsInf(l, 0) || l > c.blowUp()*l0 }
			if blew == "" && (bad(e.TrainLoss, first.TrainLoss) || bad(e.TestLoss, first.TestLoss)) {
				blew = fmt.Sprintf("loss blew up at iteration %d (train %.4g, eval %.4g; initial %.4g, %.4g)", e.Iter,
					e.TrainLoss, e.TestLoss, first.TrainLoss, first.TestLoss)
				blewAt = e.Iter
				cancel()
			}
		},
	}
	res, err := tr.Train(rctx)
	if res != nil {
		run.Evals = res.Evals
	}
	env.Progress.Step(cfg.Iters - done)
	if err != nil {
		var de *engine.DivergedError
		var ie *engine.InterruptedError
		switch {
		case errors.As(err, &de):
			run.Diverged, run.DivergedIter, run.Why = true, de.Iter, fmt.Sprintf("non-finite at iteration %d", de.Iter)
		case errors.As(err, &ie) && blew != "" && ctx.Err() == nil:
			run.Diverged, run.DivergedIter, run.Why = true, blewAt, blew
		default:
			return run, fmt.Errorf("%s lr %g %s seed %d: %w", meth.Name, lr, sched, seed, err)
		}
	}
	return run, nil
}

// RunTimeToTarget tunes every method, runs the final seeds, and writes
// ttt_<name>_runs.csv (one row per evaluation of every run), _grid.csv,
// _summary.csv, _summary.md and the plots _seconds.png, _iters.png and
// _ratio.png. The first method is the baseline the target and ratios come
// from.
func RunTimeToTarget(ctx context.Context, env Env, c TTTConfig) (*TTTResult, error) {
	if err := env.mkdir(); err != nil {
		return nil, err
	}
	switch {
	case len(c.Methods) == 0:
		return nil, errors.New("time-to-target: no methods")
	case c.Seeds < 1 || c.TuneSeeds < 1:
		return nil, errors.New("time-to-target: seeds and tune seeds must be ≥ 1")
	case len(c.LRs) < 2 || len(c.Schedules) == 0:
		return nil, errors.New("time-to-target: need ≥ 2 learning rates and a schedule")
	case c.Train == nil || c.Val == nil || c.Test == nil:
		return nil, errors.New("time-to-target: need train, validation and test sets")
	}
	if !sort.Float64sAreSorted(c.LRs) {
		return nil, errors.New("time-to-target: the learning-rate grid must be ascending")
	}
	tuneTrain := c.Train
	if c.TuneTrain != nil {
		tuneTrain = c.TuneTrain
	}
	tuneIters, finalIters := itersFor(tuneTrain.N, c.Batch, c.Epochs), itersFor(c.Train.N, c.Batch, c.Epochs)
	total := len(c.Methods) * (len(c.LRs)*len(c.Schedules)*c.TuneSeeds*tuneIters + c.Seeds*finalIters)
	env.Progress.Phase(fmt.Sprintf("time-to-target %s (%d methods; grid %d×%d, %d tuning seeds, %d seeds; iterations, without grid extensions)",
		c.Name, len(c.Methods), len(c.LRs), len(c.Schedules), c.TuneSeeds, c.Seeds), total)
	defer env.Progress.Done()
	header := []string{"setting", "data", "model", "backend", "method", "sampler", "phase", "lr",
		"schedule", "seed", "iters", "diverged", "diverged_iter", "iter", "epoch", "train_s", "train_loss", "eval_set", "eval_loss", "extra_steps"}
	if c.classify() {
		// The losses are cross-entropies; the accuracies follow.
		header = append(header, "train_acc", "eval_acc")
	}
	out, err := createCSV(env.path("ttt_"+c.Name+"_runs.csv"), header)
	if err != nil {
		return nil, err
	}
	model := ""
	if m, err := nn.New(nn.Config{In: c.Train.D, Out: c.Train.O, Hidden: c.Hidden, Activation: c.Act}); err == nil {
		model = m.String()
	}
	res := &TTTResult{Name: c.Name, Iters: finalIters, Target: math.NaN(), AccTarget: math.NaN(), Classify: c.classify()}
	record := func(meth TTTMethod, r TTTRun) {
		set := "val"
		if r.Phase == "final" {
			set = "test"
		}
		if r.Diverged {
			env.Progress.Note("%s %s lr %.3g %s seed %d diverged: %s", c.Name, meth.Name, r.LR, r.Schedule, r.Seed, r.Why)
		}
		div := -1
		if r.Diverged {
			div = r.DivergedIter
		}
		row := func(fields ...any) {
			if !c.classify() {
				fields = fields[:len(fields)-2]
			}
			out.row(append([]any{c.Name, c.Train.Name, model, env.Backend.Name(), meth.Name, meth.Cfg.Sampler, r.Phase, r.LR, r.Schedule,
				int(r.Seed), r.Iters, r.Diverged, div}, fields...)...)
		}
		for _, e := range r.Evals {
			row(e.Iter, e.Epoch, e.TrainSeconds, e.TrainLoss, set, e.TestLoss, e.ExtraSteps, e.TrainAccuracy, e.TestAccuracy)
		}
		if len(r.Evals) == 0 {
			row(0, 0, 0, math.NaN(), set, math.NaN(), 0, math.NaN(), math.NaN())
		}
		res.Runs = append(res.Runs, r)
	}
	tuners := make([]*tttTuner, len(c.Methods))
	for i, meth := range c.Methods {
		t := &tttTuner{c: c, meth: meth, s: TTTSummary{Method: meth.Name, Oracle: meth.Oracle}, tried: map[int]bool{},
			run: func(lr float64, sched string, seed uint64) (TTTRun, error) {
				r, err := c.runOne(ctx, env, meth, "tune", lr, sched, seed, tuneTrain, c.Val)
				if err == nil {
					record(meth, r)
				}
				return r, err
			}}
		tuners[i] = t
		if tg, ok := c.Tuned[meth.Name]; ok {
			if err := t.reuse(tg); err != nil {
				out.close()
				return nil, fmt.Errorf("time-to-target %s: %w", c.Name, err)
			}
			// A whole grid of this setting goes on extending where a
			// larger Extend allows (nothing is tuned otherwise).
			if t.hasBase() {
				if err := t.extend(); err != nil {
					out.close()
					return nil, err
				}
			}
			continue
		}
		if err := t.tuneExtending(); err != nil {
			out.close()
			return nil, err
		}
	}
	if c.CommonGrid {
		if err := tuneCommon(tuners); err != nil {
			out.close()
			return nil, err
		}
	}
	for _, t := range tuners {
		t.finish()
		if math.IsInf(t.s.ValLoss, 1) {
			env.Progress.Note("%s %s: every grid point diverged; no final runs", c.Name, t.meth.Name)
		}
		res.Summary = append(res.Summary, t.s)
	}
	// Final runs, interleaved: seed by seed, every method in turn, so that a
	// change in the machine's speed during the experiment falls on every
	// method alike and the wall-clock ratios stay fair.
	for k := 0; k < c.Seeds; k++ {
		for i, meth := range c.Methods {
			s := res.Summary[i]
			if math.IsInf(s.ValLoss, 1) {
				continue
			}
			r, err := c.runOne(ctx, env, meth, "final", s.LR, s.Schedule, c.SeedBase+uint64(k), c.Train, c.Test)
			if err != nil {
				out.close()
				return nil, err
			}
			record(meth, r)
		}
	}
	if err := out.close(); err != nil {
		return nil, err
	}
	res.Baseline, res.Target = chooseBaseline(c, res, metricLoss)
	if c.classify() {
		res.AccBaseline, res.AccTarget = chooseBaseline(c, res, metricError)
	}
	summarizeTTT(c, res)
	res.Markdown = tttMarkdown(env, c, res, model)
	if err := writeTTT(env, c, res); err != nil {
		return nil, err
	}
	if err := plotTTT(env, c, res, model); err != nil {
		return nil, err
	}
	return res, nil
}

// ReadTTTGrid reads the tuning grid that an earlier time-to-target run
// wrote (its ttt_SETTING_grid.csv), per method, for TTTConfig.Tuned.
func ReadTTTGrid(path string) (map[string][]GridPoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for _, h := range []string{"method", "lr", "schedule", "extension", "tune_seeds", "diverged", "val_loss_median", "chosen"} {
		if _, ok := col[h]; !ok {
			return nil, fmt.Errorf("%s: no column %q (not a time-to-target grid file?)", path, h)
		}
	}
	out := map[string][]GridPoint{}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		var p GridPoint
		var errs []error
		num := func(name string) float64 {
			v, err := strconv.ParseFloat(rec[col[name]], 64)
			errs = append(errs, err)
			return v
		}
		flag := func(name string) bool {
			v, err := strconv.ParseBool(rec[col[name]])
			errs = append(errs, err)
			return v
		}
		p.LR, p.ValLoss = num("lr"), num("val_loss_median")
		p.Seeds, p.Diverged = int(num("tune_seeds")), int(num("diverged"))
		p.Extension, p.Chosen = flag("extension"), flag("chosen")
		p.Schedule = rec[col["schedule"]]
		if _, ok := col["val_acc_median"]; ok {
			p.ValAcc = num("val_acc_median")
		}
		if err := errors.Join(errs...); err != nil || !(p.LR > 0) || math.IsInf(p.LR, 0) {
			return nil, fmt.Errorf("%s:%d: bad grid row %q: %v", path, line, rec, err)
		}
		m := rec[col["method"]]
		out[m] = append(out[m], p)
	}
	return out, nil
}

// reuse takes a method's choice from an earlier run's tuning grid.
func (s *TTTSummary) reuse(grid []GridPoint) error {
	s.Grid = append([]GridPoint(nil), grid...)
	n := 0
	var chosen GridPoint
	for _, p := range grid {
		if p.Chosen {
			chosen = p
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("method %s: the tuned grid marks %d chosen points, want 1", s.Method, n)
	}
	s.choose(chosen)
	return nil
}

// choose makes p the method's choice: its rate, schedule and validation
// loss, whether it sits at an edge of the grid, and the stable ranges.
func (s *TTTSummary) choose(p GridPoint) {
	s.LR, s.Schedule, s.ValLoss = p.LR, p.Schedule, p.ValLoss
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, q := range s.Grid {
		lo, hi = min(lo, q.LR), max(hi, q.LR)
	}
	s.EdgeLow, s.EdgeHigh = p.LR == lo, p.LR == hi
	s.Stable = stableRanges(s.Grid)
}

// choose returns the grid point with the lowest median validation loss
// (the first, in grid order, on ties; the zero point when the grid is
// empty).
func choose(g []GridPoint) GridPoint {
	best := GridPoint{ValLoss: math.Inf(1)}
	found := false
	for _, p := range g {
		if !found || p.ValLoss < best.ValLoss {
			best, found = p, true
		}
	}
	return best
}

// stableRanges returns, per schedule, the widest contiguous run of grid
// learning rates (sorted) where no tuning seed diverged.
func stableRanges(g []GridPoint) map[string][2]float64 {
	out := map[string][2]float64{}
	by := map[string][]GridPoint{}
	for _, p := range g {
		by[p.Schedule] = append(by[p.Schedule], p)
	}
	for sched, ps := range by {
		sort.Slice(ps, func(i, j int) bool { return ps[i].LR < ps[j].LR })
		var best [2]float64
		start := -1
		for i := 0; i <= len(ps); i++ {
			if i < len(ps) && ps[i].Diverged == 0 {
				if start < 0 {
					start = i
				}
				continue
			}
			if start >= 0 {
				r := [2]float64{ps[start].LR, ps[i-1].LR}
				if best[0] == 0 || r[1]/r[0] > best[1]/best[0] {
					best = r
				}
				start = -1
			}
		}
		out[sched] = best
	}
	return out
}

func (r *TTTResult) finals(method string) []TTTRun {
	var out []TTTRun
	for _, x := range r.Runs {
		if x.Method == method && x.Phase == "final" {
			out = append(out, x)
		}
	}
	return out
}

// stableLevel is the lowest target a run has reached, under the
// StableTimeToTarget rule, by the evaluation nearest frac of its budget
// (+Inf when it diverged before the end).
func stableLevel(r TTTRun, frac, stay float64, m tttMetric) float64 {
	if r.Diverged || len(r.Evals) == 0 {
		return math.Inf(1)
	}
	want := frac * float64(r.Iters)
	k90, d := 0, math.Inf(1)
	for i, e := range r.Evals {
		if dd := math.Abs(float64(e.Iter) - want); dd < d {
			k90, d = i, dd
		}
	}
	// later[k] = the largest loss after evaluation k.
	n := len(r.Evals)
	later := make([]float64, n)
	later[n-1] = math.Inf(-1)
	for k := n - 2; k >= 0; k-- {
		l := m(r.Evals[k+1])
		if math.IsNaN(l) {
			l = math.Inf(1)
		}
		later[k] = math.Max(later[k+1], l)
	}
	best := math.Inf(1)
	for k := 1; k <= k90; k++ { // the initial evaluation does not count
		l := m(r.Evals[k])
		if math.IsNaN(l) {
			continue
		}
		// The loss after k must stay strictly below stay × level.
		best = math.Min(best, math.Max(l, later[k]/stay*(1+1e-9)))
	}
	return best
}

// targetOf is the q-quantile (an order statistic, so that at least a
// fraction q of the runs reach it) over the runs of their stableLevel at
// frac of the budget; NaN without runs or when it is +Inf.
func targetOf(runs []TTTRun, frac, stay, q float64, m tttMetric) float64 {
	if len(runs) == 0 {
		return math.NaN()
	}
	var v []float64
	for _, r := range runs {
		v = append(v, stableLevel(r, frac, stay, m))
	}
	sort.Float64s(v)
	t := v[min(len(v)-1, max(0, int(math.Ceil(q*float64(len(v))))-1))]
	if math.IsInf(t, 1) {
		return math.NaN()
	}
	return t
}

// reach returns a run's training seconds and iterations to target (+Inf
// when it did not reach it).
func reach(r TTTRun, target, stay float64, m tttMetric) (secs, iters float64) {
	if r.Diverged || math.IsNaN(target) {
		return math.Inf(1), math.Inf(1)
	}
	loss := make([]float64, len(r.Evals))
	for i, e := range r.Evals {
		loss[i] = m(e)
	}
	k := StableTimeToTarget(loss, target, stay)
	if k < 0 {
		return math.Inf(1), math.Inf(1)
	}
	return r.Evals[k].TrainSeconds, float64(r.Evals[k].Iter)
}

// medianRatio is median(a) ÷ median(b) for times that may be +Inf (not
// reached): NaN when both medians are +Inf, 0 when only b's is.
func medianRatio(a, b []float64) float64 {
	ma, mb := median(a), median(b)
	switch {
	case math.IsNaN(ma) || math.IsNaN(mb) || math.IsInf(ma, 1) && math.IsInf(mb, 1) || mb <= 0:
		return math.NaN()
	case math.IsInf(mb, 1):
		return 0
	}
	return ma / mb
}

// bootRatio returns medianRatio(a, b) and a bootstrap percentile interval
// of level 1−2α, resampling a and b independently, with a fixed seed;
// resamples whose ratio is NaN are left out.
func bootRatio(a, b []float64, n int, alpha float64, seed uint64) (r, lo, hi float64) {
	r = medianRatio(a, b)
	if len(a) == 0 || len(b) == 0 || math.IsNaN(r) {
		return r, math.NaN(), math.NaN()
	}
	rng := rand.New(rand.NewPCG(seed, 0xb007))
	sa, sb := make([]float64, len(a)), make([]float64, len(b))
	var rs []float64
	for k := 0; k < n; k++ {
		for i := range sa {
			sa[i] = a[rng.IntN(len(a))]
		}
		for i := range sb {
			sb[i] = b[rng.IntN(len(b))]
		}
		if x := medianRatio(sa, sb); !math.IsNaN(x) {
			rs = append(rs, x)
		}
	}
	if len(rs) == 0 {
		return r, math.NaN(), math.NaN()
	}
	sort.Float64s(rs)
	q := func(p float64) float64 { return rs[min(len(rs)-1, max(0, int(math.Floor(p*float64(len(rs))))))] }
	return r, q(alpha), q(1 - alpha)
}

// BaselineMethods are the plain-SGD methods (no importance sampling, no
// calculated step) that may set the target: tuned uniform SGD and its
// practitioner's fixes, gradient clipping and momentum.
var BaselineMethods = []string{"uniform", "uniform-clip", "uniform-mom", "uniform-mom-clip", "uniform-mom-wu"}

// chooseBaseline returns, of the BaselineMethods that ran (the first method
// when none did), the one with the lowest target, and that target.
func chooseBaseline(c TTTConfig, res *TTTResult, metric tttMetric) (string, float64) {
	name, target := c.Methods[0].Name, math.NaN()
	for _, m := range c.Methods {
		if !slices.Contains(BaselineMethods, m.Name) {
			continue
		}
		t := targetOf(res.finals(m.Name), c.frac(), c.stay(), c.quantile(), metric)
		if !math.IsNaN(t) && (math.IsNaN(target) || t < target) {
			name, target = m.Name, t
		}
	}
	if math.IsNaN(target) {
		target = targetOf(res.finals(name), c.frac(), c.stay(), c.quantile(), metric)
	}
	return name, target
}

func summarizeTTT(c TTTConfig, res *TTTResult) {
	for i := range res.Summary {
		s := &res.Summary[i]
		var spi []float64
		for _, r := range res.finals(s.Method) {
			s.Seeds++
			if r.Diverged {
				s.Diverged++
			}
			if n := len(r.Evals); n > 0 && r.Evals[n-1].Iter > 0 {
				spi = append(spi, r.Evals[n-1].TrainSeconds/float64(r.Evals[n-1].Iter))
			}
		}
		s.SecPerIter = median(spi)
	}
	reachAll(c, res, res.Baseline, res.Target, metricLoss, func(s *TTTSummary) *TTTReach { return &s.TTTReach })
	if c.classify() {
		reachAll(c, res, res.AccBaseline, res.AccTarget, metricError, func(s *TTTSummary) *TTTReach { return &s.Accuracy })
	}
}

// reachAll fills, for every method, the TTTReach that field picks: time
// to target under metric, and its ratio to baseline's.
func reachAll(c TTTConfig, res *TTTResult, baseline string, target float64, m tttMetric, field func(*TTTSummary) *TTTReach) {
	var bSec, bIt []float64
	for _, r := range res.finals(baseline) {
		s, it := reach(r, target, c.stay(), m)
		bSec, bIt = append(bSec, s), append(bIt, it)
	}
	nb := int(orDefault(float64(c.Bootstrap), 2000))
	for i := range res.Summary {
		s := &res.Summary[i]
		f := field(s)
		var fin, secs, its []float64
		for _, r := range res.finals(s.Method) {
			fin = append(fin, r.final(m))
			sec, it := reach(r, target, c.stay(), m)
			if !math.IsInf(sec, 1) {
				f.Reached++
			}
			secs, its = append(secs, sec), append(its, it)
		}
		f.FinalTest = median(fin)
		f.Seconds, f.ItersTo = median(secs), median(its)
		f.SecRatio, f.SecLo, f.SecHi = bootRatio(secs, bSec, nb, 0.05, uint64(i)+1)
		f.IterRatio, f.IterLo, f.IterHi = bootRatio(its, bIt, nb, 0.05, uint64(i)+101)
		if s.Seeds == 0 {
			f.FinalTest, f.Seconds, f.ItersTo = math.NaN(), math.NaN(), math.NaN()
		}
	}
}

func fmtRatio(m, lo, hi float64) string {
	if math.IsNaN(m) {
		return "–"
	}
	f := func(x float64) string {
		if math.IsInf(x, 1) {
			return "∞"
		}
		return fmt.Sprintf("%.2f", x)
	}
	return fmt.Sprintf("%s [%s, %s]", f(m), f(lo), f(hi))
}

func fmtInf(v float64, f string) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case math.IsInf(v, 1):
		return "not reached"
	}
	return fmt.Sprintf(f, v)
}

func (s TTTSummary) stableString(sched string) string {
	r, ok := s.Stable[sched]
	if !ok {
		return "–"
	}
	if r[0] == 0 {
		return "none"
	}
	return fmt.Sprintf("%.3g–%.3g (×%.3g)", r[0], r[1], r[1]/r[0])
}

func (s TTTSummary) chosen() string {
	if math.IsInf(s.ValLoss, 1) || s.LR == 0 {
		return "all diverged"
	}
	str := fmt.Sprintf("%.3g %s", s.LR, s.Schedule)
	for _, g := range s.Grid {
		if g.LR == s.LR && g.Schedule == s.Schedule && g.Diverged > 0 {
			str += fmt.Sprintf(" (%d/%d tuning seeds diverged here)", g.Diverged, g.Seeds)
		}
	}
	if s.EdgeLow {
		str += " (lowest lr tried: grid edge)"
	}
	if s.EdgeHigh {
		str += " (highest lr tried: grid edge)"
	}
	return str
}

func tttMarkdown(env Env, c TTTConfig, res *TTTResult, model string) string {
	var b strings.Builder
	tuneN := c.Train.N
	if c.TuneTrain != nil {
		tuneN = c.TuneTrain.N
	}
	fmt.Fprintf(&b, "### Time to target: `%s`\n\n", c.Name)
	fmt.Fprintf(&b, "Data %s: %d train / %d validation (carved from train, for tuning only) / %d test points, %d features; model %s; batch %d; budget %g epochs (%d iterations; tuning runs on %d points, %d iterations); %d evaluations per run; %s.\n\n",
		c.Train.Name, c.Train.N, c.Val.N, c.Test.N, c.Train.D, model, c.Batch, c.Epochs, res.Iters, tuneN, itersFor(tuneN, c.Batch, c.Epochs), c.Evals,
		env.Machine())
	loss := "loss"
	if c.classify() {
		loss = "cross-entropy"
		fmt.Fprintf(&b, "Classification: every method trains with the softmax cross-entropy (`--loss xent`, in nats) over %d classes; training-set class frequencies %s.\n\n",
			c.Train.O, classFreqs(c.Train))
	}
	var lrs []string
	for _, l := range c.LRs {
		lrs = append(lrs, fmt.Sprintf("%.3g", l))
	}
	fmt.Fprintf(&b, "Tuning: learning rates {%s} (× 0.1 for momentum 0.9; up to %d more per edge while the best sits there) × schedules {%s}, %d tuning seed(s), chosen by the median final validation %s (diverged: +Inf). Final: %d other seeds on the test set.\n\n",
		strings.Join(lrs, ", "), c.Extend, strings.Join(c.Schedules, ", "), c.TuneSeeds, loss, c.Seeds)
	if c.Note != "" {
		fmt.Fprintf(&b, "%s\n\n", c.Note)
	}
	if math.IsNaN(res.Target) {
		b.WriteString("**No target**: the baseline did not finish (it diverged on most seeds, or its every grid point diverged); nothing is compared with it.\n\n")
	} else {
		fmt.Fprintf(&b, "Target test %s %.5g: the lowest test %s that %.0f%% of tuned %s's seeds reach (by the rule below) by the evaluation nearest %.0f%% of the budget. Time to target: training seconds (Eval.TrainSeconds: sampling + gradient + rehash, evaluation excluded) at the first evaluation at or below the target after which the test %s stays below %.2g × target. Medians over seeds count a seed that did not reach the target (or diverged) as ∞. Ratios: the method's median time ÷ %s's, with a bootstrap 90%% interval in brackets (seeds of both resampled independently; %s's own interval shows the noise); below 1: faster.\n\n",
			loss, res.Target, loss, 100*c.quantile(), res.Baseline, 100*c.frac(), loss, c.stay(), res.Baseline, res.Baseline)
		fmt.Fprintf(&b, "Baseline: %s, the plain-SGD method (of %s) with the lowest target — tuned SGD with a practitioner's usual fixes gets its best chance.\n\n",
			res.Baseline, strings.Join(BaselineMethods, ", "))
	}
	reachTable(&b, res, "final test "+loss, func(s TTTSummary) TTTReach { return s.TTTReach }, func(v float64) string { return fmtInf(v, "%.4g") })
	if c.classify() {
		b.WriteString("\n")
		if math.IsNaN(res.AccTarget) {
			b.WriteString("**No accuracy target**: the baseline did not finish.\n\n")
		} else {
			fmt.Fprintf(&b, "Target test accuracy %.4f: the same rule on the test error 1 − accuracy — the lowest error that %.0f%% of tuned %s's seeds reach by the evaluation nearest %.0f%% of the budget, and time to target at the first evaluation at or below it after which the error stays below %.2g × it (the learning rates are those tuned on the validation cross-entropy above). Baseline: %s, the plain-SGD method with the lowest error target.\n\n",
				1-res.AccTarget, 100*c.quantile(), res.AccBaseline, 100*c.frac(), c.stay(), res.AccBaseline)
		}
		reachTable(&b, res, "final test accuracy", func(s TTTSummary) TTTReach { return s.Accuracy }, func(v float64) string {
			return fmtInf(accuracyOf(v), "%.4f")
		})
	}
	b.WriteString("\nRobustness (tuning runs): the widest contiguous learning-rate range in which no tuning seed diverged, and the grid points with diverged seeds.\n\n")
	fmt.Fprintf(&b, "| method | %s | diverged (lr: seeds) |\n| --- |%s --- |\n", strings.Join(mapStr(c.Schedules, func(s string) string { return "stable lr, " + s }), " | "),
		strings.Repeat(" --- |", len(c.Schedules)))
	for _, s := range res.Summary {
		var cols, div []string
		for _, sched := range c.Schedules {
			cols = append(cols, s.stableString(sched))
		}
		for _, g := range s.Grid {
			if g.Diverged > 0 {
				div = append(div, fmt.Sprintf("%.3g %s: %d/%d", g.LR, g.Schedule, g.Diverged, g.Seeds))
			}
		}
		d := "none"
		if len(div) > 0 {
			d = strings.Join(div, "; ")
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", s.Method, strings.Join(cols, " | "), d)
	}
	var edges []string
	for _, s := range res.Summary {
		if s.EdgeLow || s.EdgeHigh {
			edges = append(edges, s.Method)
		}
	}
	if len(edges) > 0 {
		fmt.Fprintf(&b, "\n**Grid edge**: the chosen learning rate of %s is at the edge of the (extended) grid; a wider grid might do better.\n", strings.Join(edges, ", "))
	}
	return b.String()
}

// reachTable writes the Markdown table of every method's time to one
// target (the TTTReach that field picks; final formats its FinalTest).
func reachTable(b *strings.Builder, res *TTTResult, finalName string, field func(TTTSummary) TTTReach, final func(float64) string) {
	fmt.Fprintf(b, "| method | lr, schedule | reached | diverged | %s | s to target | s ratio [90%% CI] | iters to target | iters ratio [90%% CI] | ms/iter |\n", finalName)
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, s := range res.Summary {
		r := field(s)
		sec, sr := fmtInf(r.Seconds, "%.3g"), fmtRatio(r.SecRatio, r.SecLo, r.SecHi)
		ms := fmt.Sprintf("%.3g", 1000*s.SecPerIter)
		if s.Oracle {
			sec, sr, ms = "(oracle)", "–", "(oracle)"
		}
		fmt.Fprintf(b, "| %s | %s | %d/%d | %d | %s | %s | %s | %s | %s | %s |\n", s.Method, s.chosen(), r.Reached, s.Seeds, s.Diverged,
			final(r.FinalTest), sec, sr, fmtInf(r.ItersTo, "%.0f"), fmtRatio(r.IterRatio, r.IterLo, r.IterHi), ms)
	}
}

// accuracyOf is 1 − err for a test error, NaN for +Inf (diverged).
func accuracyOf(err float64) float64 {
	if math.IsInf(err, 1) {
		return math.NaN()
	}
	return 1 - err
}

// classFreqs lists the class frequencies of one-hot targets ("0: 41%, …").
func classFreqs(d *data.Dataset) string {
	count := make([]int, d.O)
	for i := 0; i < d.N; i++ {
		if k := slices.Index(d.YRow(i), 1); k >= 0 {
			count[k]++
		}
	}
	var parts []string
	for k, n := range count {
		name := strconv.Itoa(k)
		if len(d.Classes) == d.O {
			name = strconv.FormatFloat(d.Classes[k], 'g', -1, 64)
		}
		parts = append(parts, fmt.Sprintf("%s: %.1f%%", name, 100*float64(n)/float64(max(1, d.N))))
	}
	return strings.Join(parts, ", ")
}

func mapStr(v []string, f func(string) string) []string {
	out := make([]string, len(v))
	for i, s := range v {
		out[i] = f(s)
	}
	return out
}

func writeTTT(env Env, c TTTConfig, res *TTTResult) error {
	gh := []string{"setting", "method", "lr", "schedule", "extension", "tune_seeds", "diverged", "val_loss_median", "chosen"}
	if c.classify() {
		gh = append(gh, "val_acc_median")
	}
	g, err := createCSV(env.path("ttt_"+c.Name+"_grid.csv"), gh)
	if err != nil {
		return err
	}
	for _, s := range res.Summary {
		for _, p := range s.Grid {
			f := []any{c.Name, s.Method, p.LR, p.Schedule, p.Extension, p.Seeds, p.Diverged, p.ValLoss, p.LR == s.LR && p.Schedule == s.Schedule}
			if c.classify() {
				f = append(f, p.ValAcc)
			}
			g.row(f...)
		}
	}
	if err := g.close(); err != nil {
		return err
	}
	sh := []string{"setting", "method", "oracle", "lr", "schedule", "val_loss", "edge_low",
		"edge_high", "seeds", "diverged", "reached", "baseline", "target_test_loss", "final_test_loss_median", "s_to_target_median", "s_ratio_median",
		"s_ratio_lo90", "s_ratio_hi90", "iters_to_target_median", "iters_ratio_median", "iters_ratio_lo90", "iters_ratio_hi90", "s_per_iter"}
	if c.classify() {
		// The loss columns above are cross-entropies (nats); the accuracy
		// target's columns follow.
		sh = append(sh, "loss", "acc_baseline", "target_test_acc", "acc_reached", "final_test_acc_median", "s_to_acc_median", "s_acc_ratio_median",
			"s_acc_ratio_lo90", "s_acc_ratio_hi90", "iters_to_acc_median", "iters_acc_ratio_median", "iters_acc_ratio_lo90", "iters_acc_ratio_hi90")
	}
	f, err := createCSV(env.path("ttt_"+c.Name+"_summary.csv"), sh)
	if err != nil {
		return err
	}
	for _, s := range res.Summary {
		row := []any{c.Name, s.Method, s.Oracle, s.LR, s.Schedule, s.ValLoss, s.EdgeLow, s.EdgeHigh, s.Seeds, s.Diverged, s.Reached, res.Baseline,
			res.Target, s.FinalTest, s.Seconds, s.SecRatio, s.SecLo, s.SecHi, s.ItersTo, s.IterRatio, s.IterLo, s.IterHi, s.SecPerIter}
		if c.classify() {
			a := s.Accuracy
			row = append(row, c.Loss, res.AccBaseline, accuracyOf(res.AccTarget), a.Reached, accuracyOf(a.FinalTest), a.Seconds, a.SecRatio, a.SecLo, a.SecHi,
				a.ItersTo, a.IterRatio, a.IterLo, a.IterHi)
		}
		f.row(row...)
	}
	if err := f.close(); err != nil {
		return err
	}
	return writeText(env.path("ttt_"+c.Name+"_summary.md"), res.Markdown)
}

// tttCurve is the median and min–max of a method's final test loss over
// the seeds that did not diverge, at each evaluation, against the median
// training seconds and the iteration.
func tttCurve(res *TTTResult, method string) (iters, secs, med, lo, hi []float64, n int) {
	var runs [][]engine.Eval
	for _, r := range res.finals(method) {
		if !r.Diverged && len(r.Evals) > 0 {
			runs = append(runs, r.Evals)
		}
	}
	it, ts, ls := columns(runs, func(e engine.Eval) float64 { return e.TestLoss })
	for k := range it {
		a, b := minMax(ls[k])
		iters = append(iters, it[k])
		secs = append(secs, median(ts[k]))
		med, lo, hi = append(med, median(ls[k])), append(lo, a), append(hi, b)
	}
	return iters, secs, med, lo, hi, len(runs)
}

func plotTTT(env Env, c TTTConfig, res *TTTResult, model string) error {
	var bySec, byIter []Series
	var bars []Bar
	for i, s := range res.Summary {
		it, sec, med, lo, hi, n := tttCurve(res, s.Method)
		if len(it) == 0 {
			continue
		}
		name := fmt.Sprintf("%s (%.2g %s", s.Method, s.LR, s.Schedule)
		if n < s.Seeds {
			name += fmt.Sprintf("; %d/%d diverged", s.Seeds-n, s.Seeds)
		}
		name += ")"
		dashed := strings.HasSuffix(s.Method, "+ks")
		slot := i % len(palette)
		for j, m := range c.Methods {
			if m.Name == strings.TrimSuffix(s.Method, "+ks") {
				slot = j
			}
		}
		byIter = append(byIter, Series{Name: name, X: it, Y: med, Lo: lo, Hi: hi, Dashed: dashed, ColorSlot: slot})
		if !s.Oracle {
			bySec = append(bySec, Series{Name: name, X: sec, Y: med, Lo: lo, Hi: hi, Dashed: dashed, ColorSlot: slot})
			bars = append(bars, Bar{Name: s.Method, Value: s.SecRatio, Lo: s.SecLo, Hi: s.SecHi, ColorSlot: slot})
		}
	}
	if len(byIter) == 0 {
		return nil
	}
	title := fmt.Sprintf("%s: %s, %s, tuned lr, %d seeds (median, band min–max)", c.Name, c.Train.Name, model, c.Seeds)
	ylabel := "test loss"
	if c.classify() {
		ylabel = "test cross-entropy (nats)"
	}
	lp := LinePlot{Title: title, XLabel: "training seconds (sampling + gradient + rehash)", YLabel: ylabel, LogY: true, Series: bySec,
		HLine: res.Target, HLineName: "target"}
	if len(bySec) > 0 {
		if err := lp.Save(env.path("ttt_" + c.Name + "_seconds.png")); err != nil {
			return err
		}
	}
	lp.XLabel, lp.Series = "iteration", byIter
	if err := lp.Save(env.path("ttt_" + c.Name + "_iters.png")); err != nil {
		return err
	}
	if math.IsNaN(res.Target) || len(bars) == 0 {
		return nil
	}
	bp := BarPlot{Title: fmt.Sprintf("%s: time to target ÷ %s's (median over %d seeds, bootstrap 90%% interval)", c.Name, res.Baseline, c.Seeds),
		YLabel: "wall-clock ratio (below 1: faster)", Bars: bars, RefLine: 1}
	return bp.Save(env.path("ttt_" + c.Name + "_ratio.png"))
}

// TTTSummaryTable prints the summary as aligned text (for the terminal).
func (r *TTTResult) TTTSummaryTable() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-16s %-22s %8s %9s %12s %22s %22s\n", "method", "lr schedule", "reached", "test", "s→target", "s ratio [90%]", "iter ratio [90%]")
	for _, s := range r.Summary {
		fmt.Fprintf(&b, "%-16s %-22s %5d/%-2d %9s %12s %22s %22s\n", s.Method, fmt.Sprintf("%.3g %s", s.LR, s.Schedule), s.Reached, s.Seeds,
			fmtInf(s.FinalTest, "%.4g"), fmtInf(s.Seconds, "%.3g"), fmtRatio(s.SecRatio, s.SecLo, s.SecHi), fmtRatio(s.IterRatio, s.IterLo, s.IterHi))
	}
	if r.Classify {
		fmt.Fprintf(&b, "test accuracy (target %.4f, baseline %s):\n%-16s %8s %9s %12s %22s %22s\n", accuracyOf(r.AccTarget), r.AccBaseline,
			"method", "reached", "accuracy", "s→target", "s ratio [90%]", "iter ratio [90%]")
		for _, s := range r.Summary {
			a := s.Accuracy
			fmt.Fprintf(&b, "%-16s %5d/%-2d %9s %12s %22s %22s\n", s.Method, a.Reached, s.Seeds, fmtInf(accuracyOf(a.FinalTest), "%.4f"),
				fmtInf(a.Seconds, "%.3g"), fmtRatio(a.SecRatio, a.SecLo, a.SecHi), fmtRatio(a.IterRatio, a.IterLo, a.IterHi))
		}
	}
	return b.String()
}
