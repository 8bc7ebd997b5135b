package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ntklsh/ntklsh/engine"
	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/experiment"
	"github.com/ntklsh/ntklsh/engine/nn"
)

const experimentUsage = `usage: ntklsh experiment <kl|lsh-ablation|convergence|time-to-target|all> [flags]

  kl            KL(p*‖p̂), KL(p*‖p_lsh) (structured and dense projections) and
                KL(p*‖uniform) along a training run, widths 8..8192, rehash
                every epoch and every 50 iterations, one and several outputs (pNTK);
                kl_loss.csv: 3 outputs under mse (sum of logits and residual
                direction) and xent, with ntk-static (--kl-rows)
  lsh-ablation  second-moment ratio against uniform (and KL) over K, L, family,
                MIPS, query, α, last layer only, width, tails, phase and steps
                since rehash; writes the best configuration to ablation_best.json
  convergence   train loss against iterations and seconds for every sampler,
                several seeds, time-to-target ratios against uniform
  time-to-target
                which sampler reaches a test-loss target first, in training
                seconds: every method's lr (log grid, extended at its edges) and
                schedule tuned on a validation split, target = tuned uniform's
                test loss at 90% of a multi-epoch budget, median ratio over
                seeds with bootstrap 90% intervals, divergences recorded;
                --loss xent: classification (class teacher, or --data with
                --onehot K), targets on test cross-entropy and test accuracy
  all           lsh-ablation, then kl, then convergence (with the ablation's
                best), then time-to-target

--scale smoke (seconds, for CI), paper (the paper's sizes, default) or large
(the paper's future work: ≥100k points, width ≥1024; hours on 2 cores).
Outputs (CSV, PNG, Markdown summaries) go to --out.
`

type expFlags struct {
	out, scale, kernels, best, methods string
	seeds, workers, keep               int
	growth                             float64
	quiet                              bool
	dataPath, format                   string
	target, maxRows                    int
	teachers                           string
	iters, capIters                    int
	lr                                 float64
	schedule                           string
	clipNorm                           float64
	oracles, keepSet                   bool
	tuneSeeds                          int
	variants                           string
	tuned                              string
	commonGrid                         bool
	lrPoints                           int
	extend                             int
	widths                             string
	loss                               string
	oneHot                             int
	klRows                             string
}

func runExperiment(args []string, stdout, stderr io.Writer) error {
	if len(args) < 1 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			fmt.Fprint(stderr, experimentUsage)
			return nil
		}
		fmt.Fprint(stderr, experimentUsage)
		return errUsage
	}
	sub := args[0]
	switch sub {
	case "kl", "lsh-ablation", "convergence", "time-to-target", "all":
	default:
		fmt.Fprintf(stderr, "ntklsh experiment: unknown experiment %q\n", sub)
		fmt.Fprint(stderr, experimentUsage)
		return errUsage
	}
	var f expFlags
	fs := flag.NewFlagSet("experiment "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.out, "out", "results", "output directory (CSV, PNG, Markdown)")
	fs.StringVar(&f.scale, "scale", "paper", "smoke (CI seconds), paper (the paper's sizes) or large (≥100k points, width ≥1024)")
	fs.StringVar(&f.kernels, "kernels", "", "kernel backend: generic, avx2, cuda (default: $NTKLSH_KERNELS or automatic)")
	fs.IntVar(&f.seeds, "seeds", 0, "convergence, time-to-target: seeds (0: the scale's default)")
	fs.IntVar(&f.workers, "workers", 0, "goroutines for rehash and full passes (0: GOMAXPROCS)")
	fs.StringVar(&f.best, "best", "", "convergence: lsh-best configuration file (default: OUT/ablation_best.json when present, else the engine default)")
	fs.StringVar(&f.methods, "methods", "", "convergence, time-to-target: comma-separated subset of the methods (default: all)")
	fs.IntVar(&f.keep, "keep-stepping", 4, "convergence (default 4), time-to-target (default 0): extra steps of the keep-stepping optimizer in the +ks methods (0: leave them out)")
	fs.Float64Var(&f.growth, "step-growth", 1.5, "convergence: step growth of the keep-stepping optimizer, in [1, 10]")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress on stderr (it is shown only on a terminal anyway)")
	fs.StringVar(&f.dataPath, "data", "", "convergence and time-to-target --scale large: a CSV or LIBSVM data set (e.g. YearPredictionMSD.txt) trained on besides the synthetic teacher sets; time-to-target --loss xent, any scale: a classification set (with --onehot), at smoke and paper scale instead of the class teacher")
	fs.StringVar(&f.format, "format", "", "--data format: csv, libsvm, npy or parquet (default: from the name)")
	fs.IntVar(&f.target, "target", 0, "--data CSV: 0-based target column (YearPredictionMSD: 0)")
	fs.IntVar(&f.maxRows, "max-rows", 0, "--data: read at most this many rows (0: all)")
	fs.StringVar(&f.teachers, "teachers", "3,0", "convergence --scale large: Student-t degrees of freedom of the synthetic teacher sets' inputs, comma separated (0: Gaussian; empty: none)")
	fs.IntVar(&f.iters, "iters", 0, "convergence: iterations (0: the scale's default)")
	fs.Float64Var(&f.lr, "lr", 0, "convergence: learning rate of every method (0: the scale's default)")
	fs.StringVar(&f.schedule, "schedule", "", "convergence: learning-rate schedule constant, linear or cosine (empty: the scale's default)")
	fs.IntVar(&f.capIters, "expensive-iters", -1, "convergence: cap on the iterations of the O(N·P) samplers true, ntk-exact, loss (-1: the scale's default, 0: no cap)")
	fs.Float64Var(&f.clipNorm, "clip-norm", 1, "time-to-target: gradient-norm clip of the uniform-clip method")
	fs.BoolVar(&f.oracles, "oracles", false, "time-to-target: also the O(N·P) oracles true, ntk-exact, loss (reported in iterations only)")
	fs.StringVar(&f.variants, "variants", "grid", "lsh-ablation: grid (the K×L×query sweep), cheap (fewer tables, the sparse family, the ntk-drift sampler, beside the engine default) or grid+cheap")
	fs.IntVar(&f.tuneSeeds, "tune-seeds", 0, "time-to-target: seeds per grid point of the tuning (0: the scale's default)")
	fs.IntVar(&f.lrPoints, "lr-points", 0, "time-to-target: learning rates in the tuning grid, log-spaced over the scale's range (0: the scale's default; large: 5 over two decades)")
	fs.IntVar(&f.extend, "extend", -1, "time-to-target: learning rates that may be added beyond each edge of the grid while a method's best sits there (-1: the scale's default, scaled with --lr-points); with --tuned, a whole reused grid goes on extending up to this")
	fs.BoolVar(&f.commonGrid, "common-grid", false, "time-to-target: after each method's own tuning (and edge extensions), tune every method at every grid point any method tried (in units of its learning-rate multiplier), so that no method misses a rate another method's extension found")
	fs.StringVar(&f.tuned, "tuned", "", "time-to-target: directory of an earlier run of the same settings: methods found in its ttt_SETTING_grid.csv skip tuning and rerun only their final seeds at its choices")
	fs.StringVar(&f.widths, "widths", "", "time-to-target --scale large: hidden widths, comma separated (default: 1024, and 64 on the first set)")
	fs.StringVar(&f.klRows, "kl-rows", "all", "kl: all, base (kl.csv: one and several outputs, mse under the sum-of-logits linearization) or loss (kl_loss.csv: several outputs under mse-sum, mse-residual and xent, with ntk-static's columns)")
	fs.StringVar(&f.loss, "loss", "mse", "time-to-target: mse (regression on the teacher) or xent (classification: softmax cross-entropy on the class teacher, or on --data with --onehot; targets on test cross-entropy and test accuracy)")
	fs.IntVar(&f.oneHot, "onehot", 0, "time-to-target --loss xent --data: the target column holds class labels, this many classes (one-hot outputs)")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	// time-to-target runs the +ks methods only when --keep-stepping is
	// given (they double its cost); convergence always does.
	fs.Visit(func(fl *flag.Flag) { f.keepSet = f.keepSet || fl.Name == "keep-stepping" })
	if !(f.clipNorm > 0 && f.clipNorm < 1e9) {
		return fmt.Errorf("--clip-norm %g outside (0, 1e9)", f.clipNorm)
	}
	if f.tuneSeeds < 0 || f.tuneSeeds > 1000 {
		return fmt.Errorf("--tune-seeds %d outside [0, 1000]", f.tuneSeeds)
	}
	if f.extend < -1 || f.extend > 20 {
		return fmt.Errorf("--extend %d outside [-1, 20]", f.extend)
	}
	if f.lrPoints != 0 && (f.lrPoints < 2 || f.lrPoints > 100) {
		return fmt.Errorf("--lr-points %d outside [2, 100]", f.lrPoints)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch f.loss {
	case "mse", "xent":
	default:
		return fmt.Errorf("--loss %q: want mse or xent", f.loss)
	}
	if f.oneHot < 0 || f.oneHot == 1 || f.oneHot > nn.MaxWidth {
		return fmt.Errorf("--onehot %d: want 0 or a number of classes in [2, %d]", f.oneHot, nn.MaxWidth)
	}
	if f.oneHot > 0 && (f.loss != "xent" || f.dataPath == "") {
		return fmt.Errorf("--onehot %d: only with --loss xent and --data", f.oneHot)
	}
	switch f.scale {
	case "smoke", "paper", "large":
	default:
		return fmt.Errorf("--scale %q: want smoke, paper or large", f.scale)
	}
	if f.iters < 0 || f.iters > 1<<30 || f.capIters < -1 || f.capIters > 1<<30 {
		return fmt.Errorf("--iters %d / --expensive-iters %d out of range", f.iters, f.capIters)
	}
	if !(f.lr >= 0 && f.lr <= 100) {
		return fmt.Errorf("--lr %g outside [0, 100]", f.lr)
	}
	switch f.schedule {
	case "", "constant", "linear", "cosine":
	default:
		return fmt.Errorf("--schedule %q: want constant, linear or cosine", f.schedule)
	}
	if f.seeds < 0 || f.seeds > 1000 {
		return fmt.Errorf("--seeds %d outside [0, 1000]", f.seeds)
	}
	if f.keep < 0 || f.keep > 1000 {
		return fmt.Errorf("--keep-stepping %d outside [0, 1000]", f.keep)
	}
	if !(f.growth >= 1 && f.growth <= 10) {
		return fmt.Errorf("--step-growth %g outside [1, 10]", f.growth)
	}
	be, why, err := selectBackend(f.kernels)
	if err != nil {
		return err
	}
	tty := isTerminal(stderr)
	env := experiment.Env{Out: filepath.Join(f.out, f.scale), Backend: be, Workers: f.workers,
		Progress: experiment.NewProgress(stderr, tty && !f.quiet)}
	if err := os.MkdirAll(env.Out, 0o755); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(stdout, "machine: %s (backend chosen: %s)\noutputs: %s\n", env.Machine(), why, env.Out)
	start := time.Now()
	run := func(name string, fn func() error) error {
		t0 := time.Now()
		if err := fn(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		fmt.Fprintf(stdout, "%s done in %s\n", name, time.Since(t0).Round(time.Millisecond))
		return nil
	}
	if sub == "lsh-ablation" || sub == "all" {
		if err := run("lsh-ablation", func() error { return expAblation(ctx, env, f, stdout) }); err != nil {
			return err
		}
	}
	if sub == "kl" || sub == "all" {
		if err := run("kl", func() error { return expKL(ctx, env, f, stdout) }); err != nil {
			return err
		}
	}
	if sub == "convergence" || sub == "all" {
		if err := run("convergence", func() error { return expConvergence(ctx, env, f, stdout) }); err != nil {
			return err
		}
	}
	if sub == "time-to-target" || sub == "all" {
		if err := run("time-to-target", func() error { return expTimeToTarget(ctx, env, f, stdout) }); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "all done in %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}

// loadBest reads the ablation's best configuration.
func loadBest(path string) (experiment.BestLSH, error) {
	var b experiment.BestLSH
	raw, err := os.ReadFile(path)
	if err != nil {
		return b, err
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		return b, fmt.Errorf("%s: %w", path, err)
	}
	if err := b.Hash.Validate(); err != nil {
		return b, fmt.Errorf("%s: %w", path, err)
	}
	if b.RehashEvery < 0 {
		return b, fmt.Errorf("%s: RehashEvery %d < 0", path, b.RehashEvery)
	}
	b.Source = path
	return b, nil
}

type convSetting struct {
	name                 string
	train, test          *data.Dataset
	hidden               []int
	batch, iters, every  int
	lr                   float64
	schedule             string
	seeds, diag, capIter int
}

func expConvergence(ctx context.Context, env experiment.Env, f expFlags, stdout io.Writer) error {
	// Without an ablation file, lsh-best is the engine's default hashing
	// (itself set from the paper-scale ablation) with that ablation's
	// rehash period.
	best := experiment.BestLSH{Hash: engine.DefaultConfig().Hash, RehashEvery: 200, Source: "engine default hash, rehash every 200 (no ablation_best.json)"}
	bestPath := f.best
	if bestPath == "" {
		if p := filepath.Join(env.Out, "ablation_best.json"); fileExists(p) {
			bestPath = p
		}
	}
	if bestPath != "" {
		b, err := loadBest(bestPath)
		if err != nil {
			return err
		}
		best = b
	}
	fmt.Fprintf(stdout, "lsh-best: K=%d L=%d family=%s mips=%v query=%s alpha=%g last-layer-only=%v rehash-every=%d (from %s)\n", best.Hash.K, best.Hash.L,
		best.Hash.Family, best.Hash.MIPS, best.Hash.Query, best.Hash.Alpha, best.Hash.LastLayerOnly, best.RehashEvery, best.Source)
	var sets []convSetting
	teacher := func(n, d int, tail float64, seed uint64) (*data.Dataset, *data.Dataset, error) {
		tr, te, err := experiment.TeacherSet(data.TeacherConfig{N: n, D: d, Hidden: 32, O: 1, TailDOF: tail, Noise: 0.1, Seed: seed}, 0.2)
		if err == nil && tail <= 0 {
			tr.Name, te.Name = "teacher-gaussian", "teacher-gaussian"
		} else if err == nil {
			tr.Name, te.Name = fmt.Sprintf("teacher-t%g", tail), fmt.Sprintf("teacher-t%g", tail)
		}
		return tr, te, err
	}
	switch f.scale {
	case "smoke":
		tr, te, err := teacher(300, 8, 3, 1)
		if err != nil {
			return err
		}
		sets = append(sets, convSetting{name: "smoke", train: tr, test: te, hidden: []int{8}, batch: 8, iters: 30, every: 5, lr: 0.05, seeds: 2, diag: 100})
	case "paper":
		// The paper's setting: 1000 training points, 2 epochs, one hidden layer of 32.
		tr, te, err := teacher(1250, 16, 3, 1)
		if err != nil {
			return err
		}
		sets = append(sets, convSetting{name: "paper", train: tr, test: te, hidden: []int{32}, batch: 10, iters: 200, every: 5, lr: 0.05, seeds: 10, diag: 1000})
	case "large":
		// The paper's future work: ≥100k points, width 1024, 1 epoch. lr
		// 0.005 with a cosine decay: on the Student-t(3) teacher uniform SGD
		// spikes at every constant rate that learns (0.002–0.01, measured),
		// and the Gaussian set ends lowest with this one.
		var tails []float64
		for _, t := range strings.Split(f.teachers, ",") {
			if t = strings.TrimSpace(t); t == "" {
				continue
			}
			v, err := strconv.ParseFloat(t, 64)
			if err != nil || v < 0 || v > 1e6 || v > 0 && v < 1 {
				return fmt.Errorf("--teachers %q: each must be 0 (Gaussian) or a number of degrees of freedom ≥ 1", f.teachers)
			}
			tails = append(tails, v)
		}
		for _, tail := range tails {
			tr, te, err := teacher(125000, 16, tail, 1)
			if err != nil {
				return err
			}
			sets = append(sets, convSetting{name: "large-" + tr.Name, train: tr, test: te, hidden: []int{1024}, batch: 32, iters: 3125, every: 125,
				lr: 0.005, schedule: "cosine", seeds: 3, diag: 1000, capIter: 50})
		}
		if f.dataPath != "" {
			all, err := data.Load(f.dataPath, f.format, data.CSVOptions{Target: f.target, Targets: 1, Header: data.HeaderAuto, MaxRows: f.maxRows},
				data.LIBSVMOptions{MaxRows: f.maxRows})
			if err != nil {
				return err
			}
			tr, te, err := experiment.Prepare(all, 0.2, 1)
			if err != nil {
				return err
			}
			iters := max(1, tr.N/32)
			sets = append(sets, convSetting{name: "large-" + sanitize(tr.Name), train: tr, test: te, hidden: []int{1024}, batch: 32, iters: iters,
				every: max(1, iters/25), lr: 0.005, schedule: "cosine", seeds: 3, diag: 1000, capIter: 50})
		}
	}
	for _, s := range sets {
		base := engine.DefaultConfig()
		base.Hash = experiment.PaperHash()
		if s.schedule != "" {
			base.Schedule = s.schedule
		}
		if f.schedule != "" {
			base.Schedule = f.schedule
		}
		if f.lr > 0 {
			s.lr = f.lr
		}
		ms := experiment.Methods(base, best, f.keep, f.growth)
		ms, err := experiment.SelectMethods(ms, f.methods)
		if err != nil {
			return err
		}
		seeds := s.seeds
		if f.seeds > 0 {
			seeds = f.seeds
		}
		if f.iters > 0 {
			s.iters = f.iters
			s.every = max(1, s.iters/25)
		}
		if f.capIters >= 0 {
			s.capIter = f.capIters
		}
		res, err := experiment.RunConvergence(ctx, env, experiment.ConvergenceConfig{Name: s.name, Train: s.train, Test: s.test, Hidden: s.hidden,
			Act: nn.ReLU, Batch: s.batch, Iters: s.iters, LR: s.lr, EvalEvery: s.every, DiagSubset: s.diag, Seeds: seeds, SeedBase: 1,
			Methods: ms, ExpensiveIters: s.capIter})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nconvergence %s (target: 1.05 × uniform's lowest train loss per seed; ratios: geometric mean over seeds):\n%s", s.name, res.SummaryTable())
	}
	return nil
}

func sanitize(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, filepath.Base(s))
	if s == "" {
		return "data"
	}
	return s
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func expKL(ctx context.Context, env experiment.Env, f expFlags, stdout io.Writer) error {
	c := experiment.KLConfig{
		Data:    data.TeacherConfig{N: 1000, D: 16, Hidden: 32, O: 1, TailDOF: 3, Noise: 0.1, Seed: 1},
		Outputs: []int{1, 3}, Widths: []int{8, 32, 90, 512, 2048, 8192}, MultiWidths: []int{32, 512},
		Rehash: []experiment.RehashMode{{Name: "epoch"}, {Name: "r50", Every: 50}},
		Epochs: 4, Batch: 10, LR: 0.05, MeasureEvery: 10, Hash: experiment.PaperHash(), Eps: 0.1, Seed: 1,
	}
	switch f.scale {
	case "smoke":
		c.Data.N, c.Data.D = 200, 8
		c.Widths, c.MultiWidths = []int{8, 32}, []int{8}
		c.Rehash = []experiment.RehashMode{{Name: "epoch"}, {Name: "r10", Every: 10}}
		c.Epochs, c.MeasureEvery = 2, 5
	case "large":
		// 20× the paper's points; the dense family is skipped above 20k
		// parameters (its K·L·P matrix costs O(N·K·L·P) per rehash).
		c.Data.N = 20000
		c.Batch, c.Epochs, c.MeasureEvery = 32, 2, 50
		c.MultiWidths = []int{32, 512, 2048}
		c.DenseMaxParams = 20000
	}
	switch f.klRows {
	case "all", "base", "loss":
	default:
		return fmt.Errorf("--kl-rows %q: want all, base or loss", f.klRows)
	}
	if f.klRows != "base" {
		c.Variants = experiment.DefaultKLVariants(3)
		cd := data.DefaultClassTeacher()
		cd.N, cd.D = c.Data.N, c.Data.D
		c.ClassData = cd
	}
	c.VariantsOnly = f.klRows == "loss"
	rows, err := experiment.RunKL(ctx, env, c)
	if err != nil {
		return err
	}
	var files []string
	if !c.VariantsOnly {
		files = append(files, filepath.Join(env.Out, "kl.csv"))
	}
	if len(c.Variants) > 0 {
		files = append(files, filepath.Join(env.Out, "kl_loss.csv"))
	}
	fmt.Fprintf(stdout, "kl: %d measurements written to %s\n", len(rows), strings.Join(files, " and "))
	return nil
}

func expAblation(ctx context.Context, env experiment.Env, f expFlags, stdout io.Writer) error {
	def := experiment.PaperHash()
	c := experiment.AblationConfig{
		Data:  data.TeacherConfig{N: 10000, D: 16, Hidden: 32, O: 1, Noise: 0.1, Seed: 1},
		Tails: []float64{3, 0}, Widths: []int{32, 256, 1024},
		Batch: 32, Iters: 1500, LR: 0.02, Phases: []int{0, 1000}, Since: []int{0, 10, 50, 200},
		Variants:  experiment.AblationGrid(def, []int{1, 2, 3, 4, 6, 8}, []int{16, 64, 256}, []float64{0.001, 0.01, 0.1, 1}),
		HashSeeds: 3, Eps: 0.1, Seed: 1, Default: fmt.Sprintf("paper K%d L%d", def.K, def.L),
	}
	switch f.scale {
	case "smoke":
		c.Data.N, c.Data.D = 400, 8
		c.Widths = []int{16}
		c.Iters, c.Phases, c.Since = 60, []int{0, 40}, []int{0, 5, 20}
		c.Variants = experiment.AblationGrid(def, []int{1, 2}, []int{8, 32}, []float64{0.01})
		c.HashSeeds = 1
	case "large":
		c.Data.N = 50000
		c.HashSeeds = 2
		c.Iters, c.Phases, c.Since = 4000, []int{0, 3000}, []int{0, 10, 50, 200, 1000}
	}
	if f.variants != "grid" {
		fitBack := 200
		if f.scale == "smoke" {
			fitBack = 20
		}
		cheap := experiment.CheapVariants(engine.DefaultConfig().Hash, fitBack)
		switch f.variants {
		case "cheap":
			c.Variants = cheap
			c.Default = cheap[2].Name // the engine default: re-centred, K1 L64, structured
		case "grid+cheap":
			have := map[string]bool{}
			for _, v := range c.Variants {
				have[v.Name] = true
			}
			for _, v := range cheap {
				if !have[v.Name] {
					c.Variants = append(c.Variants, v)
				}
			}
		default:
			return fmt.Errorf("--variants %q: want grid, cheap or grid+cheap", f.variants)
		}
		for _, v := range cheap {
			c.Show = append(c.Show, v.Name)
		}
	}
	res, err := experiment.RunAblation(ctx, env, c)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "lsh-ablation: %d measurements; best %s, rehash every %d (written to %s)\n", len(res.Rows), res.BestName,
		res.Best.RehashEvery, filepath.Join(env.Out, "ablation_best.json"))
	for i, s := range res.Ranking {
		if i >= 8 {
			break
		}
		fmt.Fprintf(stdout, "  %-36s geo-mean ratio %.3g, beats uniform in %.0f%% of contexts, beats ntk-static in %.0f%%\n", s.Name, s.GeoRatio, 100*s.BeatsUniform, 100*s.BeatsStatic)
	}
	return nil
}
