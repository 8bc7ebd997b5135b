package experiment

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/ntklsh/ntklsh/engine"
	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/engine/ntk"
)

// Method is one training method of the convergence experiment: a sampler
// with its settings (Seed, Iters, Batch, LR, EvalEvery and DiagSubset are
// set by the experiment).
type Method struct {
	Name string
	Cfg  engine.Config
	// Expensive marks the O(N·P)-per-step samplers, whose iterations
	// ConvergenceConfig.ExpensiveIters may cap.
	Expensive bool
}

// BestLSH is the lsh configuration the ablation found best.
type BestLSH struct {
	Hash        ntk.HashConfig
	RehashEvery int
	// Source says where it came from (a file, or "engine default").
	Source string
}

// Methods returns the methods of the issue: uniform SGD, true adaptive
// sampling, lsh with rehash every epoch and every 50 iterations, the best
// lsh configuration of the ablation, ntk-static, ntk-exact, upper-bound,
// loss, and the keep-stepping optimizer on uniform, lsh and ntk-static.
func Methods(base engine.Config, best BestLSH, keep int, growth float64) []Method {
	mk := func(name, sampler string, f func(*engine.Config)) Method {
		c := base
		c.Sampler = sampler
		c.RehashEvery, c.RehashEpochs = 0, 1
		if f != nil {
			f(&c)
		}
		exp := sampler == engine.SamplerTrue || sampler == engine.SamplerNTKExact || sampler == engine.SamplerLoss
		return Method{Name: name, Cfg: c, Expensive: exp}
	}
	ks := func(c *engine.Config) { c.KeepStepping, c.StepGrowth = keep, growth }
	ms := []Method{
		mk("uniform", engine.SamplerUniform, nil),
		mk("true", engine.SamplerTrue, nil),
		mk("lsh-epoch", engine.SamplerLSH, nil),
		mk("lsh-r50", engine.SamplerLSH, func(c *engine.Config) { c.RehashEvery = 50 }),
		mk("lsh-best", engine.SamplerLSH, func(c *engine.Config) {
			c.Hash = best.Hash
			c.RehashEvery = best.RehashEvery
		}),
		mk("ntk-static", engine.SamplerNTKStatic, nil),
		mk("ntk-exact", engine.SamplerNTKExact, nil),
		mk("upper-bound", engine.SamplerUpperBound, nil),
		mk("loss", engine.SamplerLoss, nil),
	}
	if keep > 0 {
		ms = append(ms,
			mk("uniform+ks", engine.SamplerUniform, ks),
			mk("lsh-epoch+ks", engine.SamplerLSH, ks),
			mk("ntk-static+ks", engine.SamplerNTKStatic, ks))
	}
	return ms
}

// SelectMethods keeps the methods named in a comma-separated list (all
// when empty).
func SelectMethods(ms []Method, names string) ([]Method, error) {
	if strings.TrimSpace(names) == "" {
		return ms, nil
	}
	var out []Method
	for _, n := range strings.Split(names, ",") {
		n = strings.TrimSpace(n)
		found := false
		for _, m := range ms {
			if m.Name == n {
				out = append(out, m)
				found = true
			}
		}
		if !found {
			var all []string
			for _, m := range ms {
				all = append(all, m.Name)
			}
			return nil, fmt.Errorf("unknown method %q (want some of %s)", n, strings.Join(all, ", "))
		}
	}
	return out, nil
}

// ConvergenceConfig configures one setting of the convergence experiment.
type ConvergenceConfig struct {
	// Name labels the setting in file names ("paper", "large-teacher").
	Name        string
	Train, Test *data.Dataset
	Hidden      []int
	Act         nn.Activation
	Batch       int
	Iters       int
	LR          float64
	EvalEvery   int
	DiagSubset  int
	Seeds       int
	SeedBase    uint64
	Methods     []Method
	// ExpensiveIters caps the iterations of the O(N·P) samplers (0: no
	// cap); their rows say how many they ran.
	ExpensiveIters int
	// TargetLoss for time-to-target; 0: per seed, 1.05 × the lowest train
	// loss uniform reached on that seed (its best, not its last: on
	// heavy-tailed data uniform SGD's loss spikes, and the last evaluation
	// may sit in a spike).
	TargetLoss float64
}

// RunResult is one method on one seed.
type RunResult struct {
	Method   string
	Seed     uint64
	Iters    int
	Evals    []engine.Eval
	Diverged string
}

// MethodSummary aggregates a method over the seeds.
type MethodSummary struct {
	Method              string
	Seeds, Reached      int
	Iters               int
	FinalLoss, FinalStd float64
	TestLoss            float64
	TrainSeconds        float64
	SecPerIter          float64
	ItersToTarget       float64 // mean over seeds that reached it
	SecsToTarget        float64
	IterRatio, SecRatio float64 // vs uniform (mean over reaching seeds ÷ uniform's mean)
	SecondMoment        float64 // median over evaluations and seeds
	Diverged            int
	Capped              bool
}

// ConvergenceResult is what RunConvergence returns.
type ConvergenceResult struct {
	// Target is the fixed target train loss when set; otherwise each seed
	// has its own, SeedTarget: 1.05 × the lowest train loss uniform reached
	// on it.
	Target     float64
	SeedTarget map[uint64]float64
	Runs       []RunResult
	Summary    []MethodSummary
}

// RunConvergence trains every method on every seed from the same
// initialization (per seed) and writes convergence_<name>.csv (one row per
// evaluation), convergence_<name>_summary.csv and .md, and the plots
// convergence_<name>_{iters,seconds}[_ks].png.
func RunConvergence(ctx context.Context, env Env, c ConvergenceConfig) (*ConvergenceResult, error) {
	if err := env.mkdir(); err != nil {
		return nil, err
	}
	if c.Seeds < 1 {
		return nil, errors.New("convergence: seeds must be ≥ 1")
	}
	total := 0
	for _, m := range c.Methods {
		total += c.Seeds * c.itersOf(m)
	}
	env.Progress.Phase(fmt.Sprintf("convergence %s (%d methods × %d seeds, iterations)", c.Name, len(c.Methods), c.Seeds), total)
	defer env.Progress.Done()
	out, err := createCSV(env.path("convergence_"+c.Name+".csv"), []string{"setting", "data", "model", "backend", "method", "sampler", "seed",
		"iters_run", "iter", "epoch", "train_s", "sample_s", "grad_s", "rehash_s", "rehashes", "train_loss", "test_loss",
		"second_moment_ratio", "ideal_ratio", "kl", "ess_fraction", "max_weight", "extra_steps"})
	if err != nil {
		return nil, err
	}
	res := &ConvergenceResult{}
	var modelDesc string
	for s := 0; s < c.Seeds; s++ {
		seed := c.SeedBase + uint64(s)
		mcfg := nn.Config{In: c.Train.D, Out: c.Train.O, Hidden: c.Hidden, Activation: c.Act, Seed: seed}
		for _, meth := range c.Methods {
			m, err := nn.New(mcfg)
			if err != nil {
				out.close()
				return nil, err
			}
			modelDesc = m.String()
			cfg := meth.Cfg
			cfg.Seed = seed
			cfg.Batch, cfg.LR, cfg.DiagSubset, cfg.Workers = c.Batch, c.LR, c.DiagSubset, env.Workers
			cfg.Iters = c.itersOf(meth)
			cfg.EvalEvery = c.EvalEvery
			tr, err := engine.NewTrainer(env.Backend, m, c.Train, c.Test, cfg)
			if err != nil {
				out.close()
				return nil, fmt.Errorf("%s: %w", meth.Name, err)
			}
			done := 0
			tr.Recorder = engine.Observers{OnIter: func(engine.IterRecord) { done++; env.Progress.Step(1) }}
			r, err := tr.Train(ctx)
			rr := RunResult{Method: meth.Name, Seed: seed, Iters: cfg.Iters}
			if r != nil {
				rr.Evals = r.Evals
			}
			if err != nil {
				var de *engine.DivergedError
				if !errors.As(err, &de) {
					out.close()
					return nil, fmt.Errorf("%s seed %d: %w", meth.Name, seed, err)
				}
				rr.Diverged = err.Error()
				env.Progress.Step(cfg.Iters - done)
				env.Progress.Note("%s seed %d diverged: %v", meth.Name, seed, err)
			}
			for _, e := range rr.Evals {
				out.row(c.Name, c.Train.Name, m.String(), env.Backend.Name(), meth.Name, cfg.Sampler, int(seed), cfg.Iters, e.Iter, e.Epoch,
					e.TrainSeconds, e.SampleSeconds, e.GradSeconds, e.RehashSeconds, e.Rehashes, e.TrainLoss, e.TestLoss,
					e.SecondMoment, e.Ideal, e.KL, e.ESS, e.MaxWeight, e.ExtraSteps)
			}
			res.Runs = append(res.Runs, rr)
		}
	}
	if err := out.close(); err != nil {
		return nil, err
	}
	res.Target = c.TargetLoss
	res.SeedTarget = map[uint64]float64{}
	for _, r := range res.Runs {
		if r.Method == "uniform" && len(r.Evals) > 0 && r.Diverged == "" {
			res.SeedTarget[r.Seed] = 1.05 * bestLoss(r.Evals)
		}
	}
	res.Summary = summarize(c, res)
	if err := writeConvergenceSummary(env, c, res, modelDesc); err != nil {
		return nil, err
	}
	if err := plotConvergence(env, c, res, modelDesc); err != nil {
		return nil, err
	}
	return res, nil
}

// bestLoss is the lowest train loss of the evaluations after the first
// (the initial loss does not count as reached).
func bestLoss(evals []engine.Eval) float64 {
	best := math.Inf(1)
	for i, e := range evals {
		if (i > 0 || len(evals) == 1) && e.TrainLoss < best {
			best = e.TrainLoss
		}
	}
	return best
}

// schedule names the methods' learning-rate schedule (they share one).
func (c ConvergenceConfig) schedule() string {
	if len(c.Methods) == 0 || c.Methods[0].Cfg.Schedule == "" {
		return "constant"
	}
	return c.Methods[0].Cfg.Schedule
}

func (c ConvergenceConfig) itersOf(m Method) int {
	if m.Expensive && c.ExpensiveIters > 0 && c.ExpensiveIters < c.Iters {
		return c.ExpensiveIters
	}
	return c.Iters
}

// timeToTarget returns the iteration and training seconds of the first
// evaluation at or below target.
func timeToTarget(evals []engine.Eval, target float64) (int, float64, bool) {
	for _, e := range evals {
		if e.TrainLoss <= target {
			return e.Iter, e.TrainSeconds, true
		}
	}
	return 0, 0, false
}

func (r *ConvergenceResult) target(seed uint64) (float64, bool) {
	if r.Target > 0 {
		return r.Target, true
	}
	t, ok := r.SeedTarget[seed]
	return t, ok
}

func summarize(c ConvergenceConfig, res *ConvergenceResult) []MethodSummary {
	// Uniform's time to target per seed, for the per-seed ratios.
	uIt, uSec := map[uint64]float64{}, map[uint64]float64{}
	for _, r := range res.Runs {
		if r.Method != "uniform" || r.Diverged != "" {
			continue
		}
		if tg, ok := res.target(r.Seed); ok {
			if it, ts, ok := timeToTarget(r.Evals, tg); ok {
				uIt[r.Seed], uSec[r.Seed] = float64(it), ts
			}
		}
	}
	var out []MethodSummary
	for _, meth := range c.Methods {
		s := MethodSummary{Method: meth.Name, Iters: c.itersOf(meth), Capped: c.itersOf(meth) < c.Iters}
		var fin, test, secs, its, tts, sm, ri, rs []float64
		for _, r := range res.Runs {
			if r.Method != meth.Name {
				continue
			}
			s.Seeds++
			if r.Diverged != "" {
				s.Diverged++
				continue
			}
			last := r.Evals[len(r.Evals)-1]
			fin = append(fin, last.TrainLoss)
			test = append(test, last.TestLoss)
			secs = append(secs, last.TrainSeconds)
			for _, e := range r.Evals[1:] {
				sm = append(sm, e.SecondMoment)
			}
			tg, ok := res.target(r.Seed)
			if !ok {
				continue
			}
			if it, ts, ok := timeToTarget(r.Evals, tg); ok {
				s.Reached++
				its = append(its, float64(it))
				tts = append(tts, ts)
				if u, ok := uIt[r.Seed]; ok && u > 0 {
					ri = append(ri, float64(it)/u)
				}
				if u, ok := uSec[r.Seed]; ok && u > 0 {
					rs = append(rs, ts/u)
				}
			}
		}
		s.FinalLoss, s.FinalStd = meanStd(fin)
		s.TestLoss, _ = meanStd(test)
		s.TrainSeconds, _ = meanStd(secs)
		s.SecPerIter = s.TrainSeconds / float64(s.Iters)
		s.ItersToTarget, _ = meanStd(its)
		s.SecsToTarget, _ = meanStd(tts)
		s.SecondMoment = median(sm)
		s.IterRatio, s.SecRatio = geoMean(ri), geoMean(rs)
		out = append(out, s)
	}
	return out
}

func writeConvergenceSummary(env Env, c ConvergenceConfig, res *ConvergenceResult, model string) error {
	f, err := createCSV(env.path("convergence_"+c.Name+"_summary.csv"), []string{"setting", "method", "seeds", "diverged", "iters", "capped",
		"final_train_loss_mean", "final_train_loss_std", "final_test_loss_mean", "train_s_mean", "s_per_iter", "fixed_target_loss", "reached",
		"iters_to_target_mean", "s_to_target_mean", "iters_ratio_vs_uniform_geomean", "s_ratio_vs_uniform_geomean", "second_moment_median"})
	if err != nil {
		return err
	}
	for _, s := range res.Summary {
		f.row(c.Name, s.Method, s.Seeds, s.Diverged, s.Iters, s.Capped, s.FinalLoss, s.FinalStd, s.TestLoss, s.TrainSeconds, s.SecPerIter,
			res.Target, s.Reached, s.ItersToTarget, s.SecsToTarget, s.IterRatio, s.SecRatio, s.SecondMoment)
	}
	if err := f.close(); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Setting `%s`: data %s (%d train / %d test points, %d features), model %s, batch %d, %d iterations (%.2f epochs), lr %g (%s schedule), %d seeds; backend %s.\n",
		c.Name, c.Train.Name, c.Train.N, nTest(c.Test), c.Train.D, model, c.Batch, c.Iters, float64(c.Iters*c.Batch)/float64(c.Train.N), c.LR, c.schedule(), c.Seeds, env.Backend.Name())
	if res.Target > 0 {
		fmt.Fprintf(&b, "Target train loss %.5g. ", res.Target)
	} else {
		var ts []float64
		for _, v := range res.SeedTarget {
			ts = append(ts, v)
		}
		if len(ts) == 0 {
			b.WriteString("No target: uniform diverged on every seed (or was not run), so nothing is compared with it. ")
		} else {
			lo, hi := minMax(ts)
			fmt.Fprintf(&b, "Target train loss per seed: 1.05 × the lowest train loss uniform reached on that seed (%.4g to %.4g). ", lo, hi)
		}
	}
	b.WriteString("Times are training seconds (sampling + gradient + rehash; evaluation excluded), means over the seeds that reached the target; ratios are the geometric mean over seeds of (method ÷ uniform) on the same seed (below 1: faster).\n\n")
	b.WriteString("| method | iters | final train loss (mean ± sd) | test loss | train s | ms/iter | reached | iters to target | s to target | iters ratio | s ratio | 2nd-moment ratio |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, s := range res.Summary {
		iters := fmt.Sprint(s.Iters)
		if s.Capped {
			iters += " (capped)"
		}
		reached := fmt.Sprintf("%d/%d", s.Reached, s.Seeds)
		if s.Diverged > 0 {
			reached += fmt.Sprintf(" (%d diverged)", s.Diverged)
		}
		fmt.Fprintf(&b, "| %s | %s | %.4g ± %.2g | %.4g | %.3g | %.3g | %s | %s | %s | %s | %s | %.3g |\n", s.Method, iters, s.FinalLoss, s.FinalStd,
			s.TestLoss, s.TrainSeconds, 1000*s.SecPerIter, reached, orDash(s.ItersToTarget, "%.0f"), orDash(s.SecsToTarget, "%.3g"),
			orDash(s.IterRatio, "%.2f"), orDash(s.SecRatio, "%.2f"), s.SecondMoment)
	}
	return writeText(env.path("convergence_"+c.Name+"_summary.md"), b.String())
}

func nTest(d *data.Dataset) int {
	if d == nil {
		return 0
	}
	return d.N
}

func orDash(v float64, f string) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return fmt.Sprintf(f, v)
}

// curve averages a method's train loss over seeds at each evaluation.
func curve(res *ConvergenceResult, method string) (iters, secs, mean, lo, hi []float64) {
	var runs [][]engine.Eval
	for _, r := range res.Runs {
		if r.Method == method && r.Diverged == "" {
			runs = append(runs, r.Evals)
		}
	}
	it, ts, ls := columns(runs, func(e engine.Eval) float64 { return e.TrainLoss })
	for k := range it {
		m, _ := meanStd(ls[k])
		a, b := minMax(ls[k])
		t, _ := meanStd(ts[k])
		iters = append(iters, it[k])
		secs = append(secs, t)
		mean, lo, hi = append(mean, m), append(lo, a), append(hi, b)
	}
	return
}

func plotConvergence(env Env, c ConvergenceConfig, res *ConvergenceResult, model string) error {
	slot := map[string]int{}
	for i, m := range c.Methods {
		slot[strings.TrimSuffix(m.Name, "+ks")] = i
		if _, ok := slot[m.Name]; !ok {
			slot[m.Name] = i
		}
	}
	groups := []struct {
		suffix string
		keep   func(string) bool
	}{
		{"", func(n string) bool { return !strings.HasSuffix(n, "+ks") }},
		{"_ks", func(n string) bool {
			base := strings.TrimSuffix(n, "+ks")
			return strings.HasSuffix(n, "+ks") || base == "uniform" || base == "lsh-epoch" || base == "ntk-static"
		}},
	}
	for _, g := range groups {
		var byIter, bySec []Series
		for _, m := range c.Methods {
			if !g.keep(m.Name) {
				continue
			}
			it, sec, mean, lo, hi := curve(res, m.Name)
			if len(it) == 0 {
				continue
			}
			name := m.Name
			if c.itersOf(m) < c.Iters {
				name += fmt.Sprintf(" (%d it)", c.itersOf(m))
			}
			s := slot[strings.TrimSuffix(m.Name, "+ks")]
			dashed := strings.HasSuffix(m.Name, "+ks")
			byIter = append(byIter, Series{Name: name, X: it, Y: mean, Lo: lo, Hi: hi, Dashed: dashed, ColorSlot: s})
			bySec = append(bySec, Series{Name: name, X: sec, Y: mean, Lo: lo, Hi: hi, Dashed: dashed, ColorSlot: s})
		}
		if len(byIter) == 0 || g.suffix == "_ks" && len(byIter) < 2 {
			continue
		}
		title := fmt.Sprintf("%s: %s, %s, %d seeds (band: min–max)", c.Name, c.Train.Name, model, c.Seeds)
		lp := LinePlot{Title: title, XLabel: "iteration", YLabel: "train loss (full training set)", LogY: true, Series: byIter,
			HLine: res.Target, HLineName: "target"}
		if res.Target <= 0 {
			var ts []float64
			for _, v := range res.SeedTarget {
				ts = append(ts, v)
			}
			lp.HLine, _ = meanStd(ts)
			lp.HLineName = "mean per-seed target"
		}
		if err := lp.Save(env.path("convergence_" + c.Name + "_iters" + g.suffix + ".png")); err != nil {
			return err
		}
		lp.XLabel, lp.Series = "training seconds (sampling + gradient + rehash)", bySec
		if err := lp.Save(env.path("convergence_" + c.Name + "_seconds" + g.suffix + ".png")); err != nil {
			return err
		}
	}
	return nil
}

// SummaryTable prints the summary as aligned text (for the terminal).
func (r *ConvergenceResult) SummaryTable() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "method\titers\tfinal loss\treached\titers→target\ts→target\titer ratio\ts ratio\t\n")
	for _, s := range r.Summary {
		fmt.Fprintf(tw, "%s\t%d\t%.4g\t%d/%d\t%s\t%s\t%s\t%s\t\n", s.Method, s.Iters, s.FinalLoss, s.Reached, s.Seeds,
			orDash(s.ItersToTarget, "%.0f"), orDash(s.SecsToTarget, "%.3g"), orDash(s.IterRatio, "%.2f"), orDash(s.SecRatio, "%.2f"))
	}
	tw.Flush()
	return b.String()
}
