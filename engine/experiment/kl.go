package experiment

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/ntklsh/ntklsh/engine"
	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/engine/ntk"
)

// RehashMode is a rehash schedule: every Every iterations, or every epoch
// when Every is 0.
type RehashMode struct {
	Name  string
	Every int
}

// KLConfig configures the KL experiment (paper §4.1).
type KLConfig struct {
	// Data is the teacher configuration; Outputs lists the output counts to
	// run (1: the paper; >1: the pNTK sum-of-logits linearization).
	Data    data.TeacherConfig
	Outputs []int
	Widths  []int
	// MultiWidths are the widths of the multi-output runs.
	MultiWidths []int
	Rehash      []RehashMode
	Epochs      float64
	Batch       int
	// LR is the step size at width ≤ 32, scaled by 32/width above.
	LR float64
	// MeasureEvery measures every so many iterations.
	MeasureEvery int
	Hash         ntk.HashConfig
	Eps          float64
	// DenseMaxParams skips the dense projection family above this many
	// parameters (its K·L·P projection matrix); 0: never skip.
	DenseMaxParams int
	Seed           uint64
	// Variants are further runs at the widths MultiWidths, written to
	// kl_loss.csv and kl_loss_summary.md with ntk-static's columns besides
	// the others: multi-output MSE under either linearization and softmax
	// cross-entropy on ClassData (Classes set from the variant's Outputs).
	Variants  []KLVariant
	ClassData data.ClassTeacherConfig
	// VariantsOnly skips the runs of Outputs (kl.csv, kl_summary.md and
	// their plots).
	VariantsOnly bool
}

// KLVariant is a loss and, for MSE, the multi-output linearization, at a
// number of outputs (classes for nn.Xent).
type KLVariant struct {
	Loss        nn.Loss
	MultiOutput ntk.MultiOutput
	Outputs     int
}

// Name is "mse-sum", "mse-residual" or "xent".
func (v KLVariant) Name() string {
	if v.Loss == nn.Xent {
		return "xent"
	}
	return "mse-" + v.MultiOutput.String()
}

// DefaultKLVariants are the rows that compare the multi-output
// linearizations and cross-entropy's: MSE under the sum of logits
// (today's default, the Outputs > 1 rows of kl.csv again, now with
// ntk-static) and under the residual direction, and cross-entropy, all at
// outputs outputs.
func DefaultKLVariants(outputs int) []KLVariant {
	return []KLVariant{{nn.MSE, ntk.SumOfLogits, outputs}, {nn.MSE, ntk.ResidualDirection, outputs}, {nn.Xent, ntk.SumOfLogits, outputs}}
}

// KLRow is one measurement.
type KLRow struct {
	// Variant is the KLVariant's name ("" in the runs of Outputs).
	Variant                string
	Outputs, Width, Params int
	Rehash                 string
	Iter, SinceRehash      int
	TrainLoss              float64
	// KL(p*‖·) for the raw NTK estimate p̂, p̂ mixed with ε like the
	// samplers, the lsh sampler's exact draw distribution (structured and
	// dense projections), and uniform.
	KLNTK, KLNTKEps, KLStructured, KLDense, KLUniform float64
	// Second-moment ratios against uniform of the same distributions.
	RatioNTKEps, RatioStructured, RatioDense, Ideal float64
	// KL(p*‖·) and the second-moment ratio of ntk-static's distribution:
	// the exact norms at the last rehash, ε-mixed (kl_loss.csv only).
	KLStatic, RatioStatic float64
}

// RunKL trains with uniform SGD (so that every estimate is measured along
// the same trajectory) and, every MeasureEvery iterations, compares the
// true distribution p* ∝ |∇ℓ_i(w_t)| over all N points with the NTK
// estimate from the last rehash and with the lsh samplers' exact draw
// probabilities. It writes kl.csv, kl_summary.md and plots.
func RunKL(ctx context.Context, env Env, c KLConfig) ([]KLRow, error) {
	if err := env.mkdir(); err != nil {
		return nil, err
	}
	type job struct {
		v          KLVariant
		out, width int
		rh         RehashMode
	}
	var jobs, vjobs []job
	if !c.VariantsOnly {
		for _, o := range c.Outputs {
			ws := c.Widths
			if o > 1 {
				ws = c.MultiWidths
			}
			for _, w := range ws {
				for _, rh := range c.Rehash {
					jobs = append(jobs, job{KLVariant{Outputs: o}, o, w, rh})
				}
			}
		}
	}
	for _, v := range c.Variants {
		for _, w := range c.MultiWidths {
			for _, rh := range c.Rehash {
				vjobs = append(vjobs, job{v, v.Outputs, w, rh})
			}
		}
	}
	iters := max(1, int(math.Round(c.Epochs*float64(c.Data.N)/float64(c.Batch))))
	env.Progress.Phase(fmt.Sprintf("kl (%d runs of %d iterations)", len(jobs)+len(vjobs), iters), (len(jobs)+len(vjobs))*iters)
	defer env.Progress.Done()
	run := func(j job, variant bool) ([]KLRow, error) {
		var train *data.Dataset
		var err error
		if j.v.Loss == nn.Xent {
			dc := c.ClassData
			dc.Classes = j.out
			var all *data.Dataset
			if all, err = data.ClassTeacher(dc); err == nil {
				train, _, err = Prepare(all, 0, dc.Seed)
			}
		} else {
			dc := c.Data
			dc.O = j.out
			train, _, err = TeacherSet(dc, 0)
		}
		if err != nil {
			return nil, err
		}
		rs, err := klRun(ctx, env, c, train, j.v, j.width, j.rh, iters)
		if err != nil {
			name := ""
			if variant {
				name = " " + j.v.Name()
			}
			return nil, fmt.Errorf("width %d outputs %d%s rehash %s: %w", j.width, j.out, name, j.rh.Name, err)
		}
		if variant {
			for i := range rs {
				rs[i].Variant = j.v.Name()
			}
		}
		return rs, nil
	}
	// runAll runs js, writing fields of every row to the CSV file name.
	runAll := func(name string, header []string, js []job, variant bool, fields func(KLRow) []any) ([]KLRow, error) {
		f, err := createCSV(env.path(name), header)
		if err != nil {
			return nil, err
		}
		var out []KLRow
		for _, j := range js {
			rs, err := run(j, variant)
			if err != nil {
				f.close()
				return nil, err
			}
			for _, r := range rs {
				f.row(fields(r)...)
			}
			out = append(out, rs...)
		}
		return out, f.close()
	}
	var rows []KLRow
	if len(jobs) > 0 {
		var err error
		rows, err = runAll("kl.csv", []string{"outputs", "width", "params", "rehash", "iter", "steps_since_rehash", "train_loss",
			"kl_ntk", "kl_ntk_eps", "kl_lsh_structured", "kl_lsh_dense", "kl_uniform", "ratio_ntk_eps", "ratio_lsh_structured", "ratio_lsh_dense", "ideal_ratio"},
			jobs, false, func(r KLRow) []any {
				return []any{r.Outputs, r.Width, r.Params, r.Rehash, r.Iter, r.SinceRehash, r.TrainLoss, r.KLNTK, r.KLNTKEps, r.KLStructured, r.KLDense,
					r.KLUniform, r.RatioNTKEps, r.RatioStructured, r.RatioDense, r.Ideal}
			})
		if err != nil {
			return nil, err
		}
		if err := klReport(env, c, rows, iters); err != nil {
			return nil, err
		}
	}
	if len(vjobs) == 0 {
		return rows, nil
	}
	vrows, err := runAll("kl_loss.csv", []string{"variant", "outputs", "width", "params", "rehash", "iter", "steps_since_rehash", "train_loss",
		"kl_ntk_static", "kl_ntk", "kl_ntk_eps", "kl_lsh_structured", "kl_lsh_dense", "kl_uniform",
		"ratio_ntk_static", "ratio_ntk_eps", "ratio_lsh_structured", "ratio_lsh_dense", "ideal_ratio"},
		vjobs, true, func(r KLRow) []any {
			return []any{r.Variant, r.Outputs, r.Width, r.Params, r.Rehash, r.Iter, r.SinceRehash, r.TrainLoss, r.KLStatic, r.KLNTK, r.KLNTKEps, r.KLStructured, r.KLDense,
				r.KLUniform, r.RatioStatic, r.RatioNTKEps, r.RatioStructured, r.RatioDense, r.Ideal}
		})
	if err != nil {
		return nil, err
	}
	if err := klVariantReport(env, c, vrows, iters); err != nil {
		return nil, err
	}
	return append(rows, vrows...), nil
}

func klRun(ctx context.Context, env Env, c KLConfig, train *data.Dataset, v KLVariant, width int, rh RehashMode, iters int) ([]KLRow, error) {
	outs := v.Outputs
	m, err := nn.New(nn.Config{In: train.D, Out: outs, Hidden: []int{width}, Activation: nn.ReLU, Seed: c.Seed, Loss: v.Loss})
	if err != nil {
		return nil, err
	}
	base := engine.DefaultConfig()
	base.Hash = PaperHash()
	base.Batch, base.Iters, base.LR, base.Eps, base.Seed, base.Workers = c.Batch, iters, scaledLR(c.LR, width), c.Eps, c.Seed, env.Workers
	base.EvalEvery, base.DiagSubset = iters, 0
	if v.Loss != nn.MSE {
		base.Loss = v.Loss.String()
	}
	if v.MultiOutput != ntk.SumOfLogits {
		base.MultiOutput = v.MultiOutput.String()
	}
	main := base
	main.Sampler = engine.SamplerUniform
	tr, err := engine.NewTrainer(env.Backend, m, train, nil, main)
	if err != nil {
		return nil, err
	}
	// Probes share the model: they never train, they rehash when the
	// schedule says and report the probabilities of their sampler at the
	// current parameters.
	shadow := func(fam ntk.Family) (*probe, error) {
		sc := base
		sc.Sampler = engine.SamplerLSH
		sc.Hash = c.Hash
		sc.Hash.Family = fam
		return newProbe(env.Backend, m, train, sc, tr.Passes())
	}
	st, err := shadow(ntk.Structured)
	if err != nil {
		return nil, err
	}
	var dn *probe
	if c.DenseMaxParams == 0 || m.NumParams() <= c.DenseMaxParams {
		if dn, err = shadow(ntk.Dense); err != nil {
			return nil, err
		}
	}
	period := rh.Every
	if period == 0 {
		period = max(1, int(math.Round(float64(train.N)/float64(c.Batch))))
	}
	n := train.N
	g, ph, ps, pd := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	uni := make([]float64, n)
	for i := range uni {
		uni[i] = 1 / float64(n)
	}
	var rows []KLRow
	lastRehash := 0
	rehash := func(t int) error {
		lastRehash = t
		if err := st.rehash(); err != nil {
			return err
		}
		if dn != nil {
			return dn.rehash()
		}
		return nil
	}
	var measureErr error
	measure := func(t int) {
		tr.GradNorms(nil, g)
		st.linearizedNorms(ph)
		st.probs(ps)
		r := KLRow{Outputs: outs, Width: width, Params: m.NumParams(), Rehash: rh.Name, Iter: t, SinceRehash: t - lastRehash,
			TrainLoss: tr.Loss(train.X, train.Y, n), KLNTK: KL(g, ph), KLDense: math.NaN(), RatioDense: math.NaN()}
		phe := mix(normalize(ph), c.Eps)
		r.RatioNTKEps, r.Ideal, r.KLNTKEps = engine.SecondMomentRatio(g, phe, n)
		r.RatioStructured, _, r.KLStructured = engine.SecondMomentRatio(g, ps, n)
		_, _, r.KLUniform = engine.SecondMomentRatio(g, uni, n)
		r.RatioStatic, _, r.KLStatic = engine.SecondMomentRatio(g, mix(normalize(st.lin.GradNorm0), c.Eps), n)
		if dn != nil {
			dn.probs(pd)
			r.RatioDense, _, r.KLDense = engine.SecondMomentRatio(g, pd, n)
		}
		rows = append(rows, r)
	}
	if err := rehash(0); err != nil {
		return nil, err
	}
	measure(0)
	tr.Recorder = engine.Observers{OnIter: func(rec engine.IterRecord) {
		env.Progress.Step(1)
		t := rec.Iter + 1
		if measureErr != nil || t >= iters {
			return
		}
		if t%period == 0 {
			if err := rehash(t); err != nil {
				measureErr = err
				return
			}
		}
		if t%c.MeasureEvery == 0 {
			measure(t)
		}
	}}
	if _, err := tr.Train(ctx); err != nil {
		return nil, err
	}
	if measureErr != nil {
		return nil, measureErr
	}
	measure(iters)
	return rows, measureErr
}

// klMean is the mean of f over rs.
func klMean(rs []KLRow, f func(KLRow) float64) float64 {
	var v []float64
	for _, r := range rs {
		v = append(v, f(r))
	}
	m, _ := meanStd(v)
	return m
}

// klCell formats klMean(rs, f) for a summary table: a skipped dense family
// (above DenseMaxParams) is NaN in the CSV and "–" here.
func klCell(rs []KLRow, f func(KLRow) float64) string {
	if v := klMean(rs, f); !math.IsNaN(v) {
		return fmt.Sprintf("%.3g", v)
	}
	return "–"
}

// klHeader is the first paragraph of the summaries.
func klHeader(b *strings.Builder, c KLConfig, iters int) {
	fmt.Fprintf(b, "Teacher data: N=%d, D=%d, Student-t(%g) inputs, noise %g; one hidden ReLU layer; uniform SGD, batch %d, %d iterations (%.3g epochs), lr %g (× 32/width above 32); hash K=%d L=%d, MIPS %v, query %s, ε=%g; measured every %d iterations over all N points. Means over the measurements of a run (KL in nats; ratio: second moment ÷ uniform's).\n\n",
		c.Data.N, c.Data.D, c.Data.TailDOF, c.Data.Noise, c.Batch, iters, c.Epochs, c.LR, c.Hash.K, c.Hash.L, c.Hash.MIPS, c.Hash.Query, c.Eps, c.MeasureEvery)
	if c.DenseMaxParams > 0 {
		fmt.Fprintf(b, "The dense projection family is skipped above %d parameters (–): its K·L×P matrix costs O(N·K·L·P) per rehash.\n\n", c.DenseMaxParams)
	}
}

// klVariantReport writes kl_loss_summary.md: the means of the variants'
// runs.
func klVariantReport(env Env, c KLConfig, rows []KLRow, iters int) error {
	type key struct {
		v          string
		out, width int
		rh         string
	}
	groups := map[key][]KLRow{}
	var keys []key
	for _, r := range rows {
		k := key{r.Variant, r.Outputs, r.Width, r.Rehash}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], r)
	}
	var b strings.Builder
	klHeader(&b, c, iters)
	cd := c.ClassData
	fmt.Fprintf(&b, "Variants: mse-sum linearizes the pNTK sum of the outputs (the default; the outputs > 1 rows of kl.csv), mse-residual the residual's direction at the rehash (--multi-output residual), xent the softmax cross-entropy (the residual direction with the softmax Jacobian) on a class teacher (N=%d, D=%d, hidden %d, Student-t(%g) inputs, sharpness %g, imbalance %g). ntk-static: the exact norms at the last rehash, ε-mixed.\n\n",
		cd.N, cd.D, cd.Hidden, cd.TailDOF, cd.Sharpness, cd.Imbalance)
	b.WriteString("| variant | outputs | width | P | rehash | KL(p*‖ntk-static) | KL(p*‖p̂) | KL(p*‖p̂ ε-mixed) | KL(p*‖lsh structured) | KL(p*‖lsh dense) | KL(p*‖uniform) | ratio ntk-static | ratio p̂ ε-mixed | ratio lsh structured | ratio lsh dense | ideal |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, k := range keys {
		rs := groups[k]
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %s", k.v, k.out, k.width, rs[0].Params, k.rh)
		for _, f := range []func(KLRow) float64{
			func(r KLRow) float64 { return r.KLStatic }, func(r KLRow) float64 { return r.KLNTK }, func(r KLRow) float64 { return r.KLNTKEps },
			func(r KLRow) float64 { return r.KLStructured }, func(r KLRow) float64 { return r.KLDense }, func(r KLRow) float64 { return r.KLUniform },
			func(r KLRow) float64 { return r.RatioStatic }, func(r KLRow) float64 { return r.RatioNTKEps }, func(r KLRow) float64 { return r.RatioStructured },
			func(r KLRow) float64 { return r.RatioDense }, func(r KLRow) float64 { return r.Ideal },
		} {
			fmt.Fprintf(&b, " | %s", klCell(rs, f))
		}
		b.WriteString(" |\n")
	}
	return writeText(env.path("kl_loss_summary.md"), b.String())
}

func klReport(env Env, c KLConfig, rows []KLRow, iters int) error {
	type key struct {
		out, width int
		rh         string
	}
	groups := map[key][]KLRow{}
	var keys []key
	for _, r := range rows {
		k := key{r.Outputs, r.Width, r.Rehash}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], r)
	}
	var b strings.Builder
	klHeader(&b, c, iters)
	b.WriteString("| outputs | width | P | rehash | KL(p*‖p̂) | KL(p*‖p̂ ε-mixed) | KL(p*‖lsh structured) | KL(p*‖lsh dense) | KL(p*‖uniform) | ratio p̂ ε-mixed | ratio lsh structured | ratio lsh dense | ideal |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	mean := klMean
	for _, k := range keys {
		rs := groups[k]
		cell := func(f func(KLRow) float64) string { return klCell(rs, f) }
		fmt.Fprintf(&b, "| %d | %d | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", k.out, k.width, rs[0].Params, k.rh,
			cell(func(r KLRow) float64 { return r.KLNTK }), cell(func(r KLRow) float64 { return r.KLNTKEps }),
			cell(func(r KLRow) float64 { return r.KLStructured }), cell(func(r KLRow) float64 { return r.KLDense }),
			cell(func(r KLRow) float64 { return r.KLUniform }), cell(func(r KLRow) float64 { return r.RatioNTKEps }),
			cell(func(r KLRow) float64 { return r.RatioStructured }), cell(func(r KLRow) float64 { return r.RatioDense }),
			cell(func(r KLRow) float64 { return r.Ideal }))
		x := func(f func(KLRow) float64) (xs, ys []float64) {
			for _, r := range rs {
				xs, ys = append(xs, float64(r.Iter)), append(ys, f(r))
			}
			return
		}
		var ss []Series
		for i, e := range []struct {
			name string
			f    func(KLRow) float64
		}{
			{"NTK estimate p̂ (raw)", func(r KLRow) float64 { return r.KLNTK }},
			{"NTK estimate p̂, ε-mixed", func(r KLRow) float64 { return r.KLNTKEps }},
			{"lsh, structured projections", func(r KLRow) float64 { return r.KLStructured }},
			{"lsh, dense projections", func(r KLRow) float64 { return r.KLDense }},
			{"uniform", func(r KLRow) float64 { return r.KLUniform }},
		} {
			xs, ys := x(e.f)
			ss = append(ss, Series{Name: e.name, X: xs, Y: ys, ColorSlot: i, Dashed: i == 1})
		}
		lp := LinePlot{Title: fmt.Sprintf("KL(p*‖·) along uniform SGD: width %d, %d output(s), rehash %s", k.width, k.out, k.rh),
			XLabel: "iteration", YLabel: "KL(p* ‖ estimate) [nats]", LogY: true, Series: ss}
		if err := lp.Save(env.path(fmt.Sprintf("kl_o%d_w%d_%s.png", k.out, k.width, k.rh))); err != nil {
			return err
		}
	}
	// Summary plot: mean KL against width, per output count and schedule.
	done := map[string]bool{}
	for _, k := range keys {
		id := fmt.Sprintf("o%d_%s", k.out, k.rh)
		if done[id] {
			continue
		}
		done[id] = true
		var ws []float64
		vals := make([][]float64, 4)
		for _, k2 := range keys {
			if k2.out != k.out || k2.rh != k.rh {
				continue
			}
			rs := groups[k2]
			ws = append(ws, float64(k2.width))
			vals[0] = append(vals[0], mean(rs, func(r KLRow) float64 { return r.KLNTKEps }))
			vals[1] = append(vals[1], mean(rs, func(r KLRow) float64 { return r.KLStructured }))
			vals[2] = append(vals[2], mean(rs, func(r KLRow) float64 { return r.KLDense }))
			vals[3] = append(vals[3], mean(rs, func(r KLRow) float64 { return r.KLUniform }))
		}
		names := []string{"NTK estimate p̂, ε-mixed", "lsh, structured", "lsh, dense", "uniform"}
		var ss []Series
		for i, n := range names {
			ss = append(ss, Series{Name: n, X: ws, Y: vals[i], ColorSlot: i + 1})
		}
		lp := LinePlot{Title: fmt.Sprintf("mean KL(p*‖·) over the run against width (%d output(s), rehash %s)", k.out, k.rh),
			XLabel: "hidden width", YLabel: "mean KL [nats]", LogX: true, LogY: true, Series: ss}
		if err := lp.Save(env.path("kl_vs_width_" + id + ".png")); err != nil {
			return err
		}
	}
	return writeText(env.path("kl_summary.md"), b.String())
}
