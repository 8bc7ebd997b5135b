package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/ntklsh/ntklsh/engine"
	"github.com/ntklsh/ntklsh/engine/checkpoint"
	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/engine/ntk"
	"github.com/ntklsh/ntklsh/kernels"
)

var errUsage = errors.New("bad usage")

// defaultSamplers are compared when --sampler is not given.
const defaultSamplers = "uniform,lsh,ntk-static,true"

type trainFlags struct {
	dataPath, format, testPath string
	target, targets, oneHot    int
	header                     string
	maxRows                    int
	testFrac                   float64
	standardize                bool

	synN, synD, synHidden, synOut int
	synTail, synNoise             float64

	hidden     string
	act        string
	seed       uint64
	samplers   string
	epochs     float64
	family     string
	query      string
	kernels    string
	logPath    string
	targetLoss float64
	quiet      bool
	cpuProf    string
	deviceStep bool
	ckptDir    string
	ckptEvery  int
	resumeDir  string
	logFormat  string
	hashSeed   uint64
}

func parseHidden(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" || s == "none" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 1 || v > nn.MaxWidth {
			return nil, fmt.Errorf("--hidden %q: each width must be an integer in [1, %d]", s, nn.MaxWidth)
		}
		out = append(out, v)
	}
	return out, nil
}

func runTrain(args []string, stdout, stderr io.Writer) error {
	cfg := engine.DefaultConfig()
	var f trainFlags
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	// Data.
	fs.StringVar(&f.dataPath, "data", "", "training data: CSV or LIBSVM, optionally .gz/.bz2 (default: built-in synthetic teacher set)")
	fs.StringVar(&f.format, "format", "", "data format: csv or libsvm (default: from the file name)")
	fs.StringVar(&f.testPath, "test", "", "test data file (default: split --test-frac off the training data)")
	fs.IntVar(&f.target, "target", 0, "CSV: 0-based target column, negative counts from the end (YearPredictionMSD: 0)")
	fs.IntVar(&f.targets, "targets", 1, "CSV: number of consecutive target columns")
	fs.IntVar(&f.oneHot, "onehot", 0, "classification: expand integer labels into this many one-hot outputs (multi-output MSE)")
	fs.StringVar(&f.header, "header", "auto", "CSV header row: auto, yes or no")
	fs.IntVar(&f.maxRows, "max-rows", 0, "read at most this many rows (0: all)")
	fs.Float64Var(&f.testFrac, "test-frac", 0.2, "fraction held out as test set when --test is not given, in [0, 1)")
	fs.BoolVar(&f.standardize, "standardize", true, "standardize features and targets with statistics fitted on the training set")
	fs.IntVar(&f.synN, "syn-n", 10000, "synthetic set: points")
	fs.IntVar(&f.synD, "syn-d", 16, "synthetic set: features")
	fs.IntVar(&f.synHidden, "syn-hidden", 32, "synthetic set: teacher hidden units")
	fs.IntVar(&f.synOut, "syn-out", 1, "synthetic set: outputs")
	fs.Float64Var(&f.synTail, "syn-tail", 3, "synthetic set: Student-t degrees of freedom of the inputs (≤0: Gaussian)")
	fs.Float64Var(&f.synNoise, "syn-noise", 0.1, "synthetic set: label noise std")
	// Model.
	fs.StringVar(&f.hidden, "hidden", "32", "hidden layer widths, comma separated (0: linear model)")
	fs.StringVar(&f.act, "act", "relu", "hidden activation: relu or tanh")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of initialization, data split and sampling")
	// Training.
	fs.StringVar(&f.samplers, "sampler", defaultSamplers, "sampler(s), comma separated: "+strings.Join(engine.SamplerNames(), ", "))
	fs.IntVar(&cfg.Batch, "batch", cfg.Batch, "minibatch size B")
	fs.IntVar(&cfg.Iters, "iters", cfg.Iters, "SGD iterations (see --epochs)")
	fs.Float64Var(&f.epochs, "epochs", 0, "train for this many epochs instead of --iters")
	fs.Float64Var(&cfg.LR, "lr", cfg.LR, "learning rate")
	fs.StringVar(&cfg.Schedule, "schedule", cfg.Schedule, "learning-rate schedule: constant, linear or cosine")
	fs.Float64Var(&cfg.Momentum, "momentum", cfg.Momentum, "heavy-ball momentum in [0, 1)")
	fs.IntVar(&cfg.RehashEvery, "rehash-every", cfg.RehashEvery, "rehash every R iterations (0: use --rehash-epochs)")
	fs.Float64Var(&cfg.RehashEpochs, "rehash-epochs", cfg.RehashEpochs, "rehash every E epochs")
	fs.Float64Var(&cfg.Eps, "eps", cfg.Eps, "uniform mixing ε of the adaptive samplers, p = (1−ε)p_sampler + ε/N")
	fs.StringVar(&cfg.Prob, "prob", cfg.Prob, "lsh importance weights: exact (the probability of the draw given tables and query: unbiased) or lgd (Chen et al. 2019's estimate cp^K(1−cp^K)^(l−1)/|bucket|: BIASED, for comparison)")
	fs.IntVar(&cfg.Hash.K, "K", cfg.Hash.K, "hash bits per table, 1..16")
	fs.IntVar(&cfg.Hash.L, "L", cfg.Hash.L, "hash tables, 1..512")
	fs.StringVar(&f.family, "family", cfg.Hash.Family.String(), "projection family: structured (per-layer u^T δ h^T v, default) or dense (Gaussian over all of a_i, reference)")
	fs.BoolVar(&cfg.Hash.MIPS, "mips", cfg.Hash.MIPS, "Simple-LSH MIPS transform of the data vectors")
	fs.StringVar(&f.query, "query", cfg.Hash.Query.String(), "query: paper ([w,−1] against [a|a|, (y−b)|a|]) or recentred ([Δw/α, 1] against |a|[αa, r0])")
	fs.Float64Var(&cfg.Hash.Alpha, "alpha", cfg.Hash.Alpha, "a-block scale α of --query recentred")
	fs.BoolVar(&cfg.Hash.SignSymmetric, "sign-symmetric", cfg.Hash.SignSymmetric, "probe the buckets of −q as well as q")
	fs.Uint64Var(&f.hashSeed, "hash-seed", cfg.Hash.Seed, "seed of the random projections")
	fs.BoolVar(&cfg.Hash.LastLayerOnly, "last-layer-only", cfg.Hash.LastLayerOnly, "hash only the output layer's block of the gradient")
	fs.IntVar(&cfg.KeepStepping, "keep-stepping", cfg.KeepStepping, "after each step keep stepping along the same direction while the minibatch loss falls, at most this many extra steps (0: off)")
	fs.Float64Var(&cfg.StepGrowth, "step-growth", cfg.StepGrowth, "keep-stepping: each extra step is this many times the last, in [1, 10]")
	fs.IntVar(&cfg.Presample, "presample", cfg.Presample, "upper-bound sampler: presample factor k (k·B points scored)")
	fs.Float64Var(&cfg.TauThreshold, "tau-th", cfg.TauThreshold, "upper-bound sampler: variance-reduction threshold τ_th (≥ 1)")
	fs.IntVar(&cfg.EvalEvery, "eval-every", 0, "full train/test loss and diagnostics every N iterations (0: 20 times per run)")
	fs.IntVar(&cfg.DiagSubset, "diag-subset", cfg.DiagSubset, "points on which the diagnostics compute true gradient norms")
	fs.IntVar(&cfg.RehashBatch, "rehash-batch", cfg.RehashBatch, "examples per Jacobian batch in a rehash and in full passes")
	fs.IntVar(&cfg.Workers, "workers", 0, "goroutines for rehash and full passes (0: GOMAXPROCS)")
	fs.StringVar(&f.kernels, "kernels", "", "kernel backend: generic, avx2, cuda (default: $NTKLSH_KERNELS or automatic)")
	fs.StringVar(&f.logPath, "log", "", "write per-iteration and evaluation metrics to this file (.csv or .jsonl)")
	fs.Float64Var(&f.targetLoss, "target-loss", 0, "common target train loss for time-to-target (0: 1.05 × the worst final train loss of the compared samplers)")
	fs.BoolVar(&f.quiet, "quiet", false, "print only the summary")
	fs.BoolVar(&f.deviceStep, "device-step", false, "with an accelerator backend (cuda), also run the SGD steps on the device (experimental: not yet validated on a GPU)")
	fs.StringVar(&f.logFormat, "log-format", "text", "progress on stderr: text (a progress bar on a terminal) or json (one object per line)")
	fs.StringVar(&f.ckptDir, "checkpoint", "", "write checkpoints (model, optimizer, RNG, iteration, normalization) to this directory; also on SIGINT/SIGTERM and at the end")
	fs.IntVar(&f.ckptEvery, "checkpoint-every", 0, "checkpoint every N iterations (0: only on interrupt and at the end)")
	fs.StringVar(&f.resumeDir, "resume", "", "continue the run checkpointed in this directory (same flags as the interrupted run)")
	fs.StringVar(&f.cpuProf, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if f.logFormat != "text" && f.logFormat != "json" {
		return fmt.Errorf("--log-format %q: want text or json", f.logFormat)
	}
	if f.ckptEvery < 0 {
		return fmt.Errorf("--checkpoint-every %d must be ≥ 0", f.ckptEvery)
	}
	if f.resumeDir != "" && f.ckptDir == "" {
		f.ckptDir = f.resumeDir
	}
	if f.ckptEvery > 0 && f.ckptDir == "" {
		return errors.New("--checkpoint-every needs --checkpoint DIR")
	}
	hidden, err := parseHidden(f.hidden)
	if err != nil {
		return err
	}
	act, err := nn.ParseActivation(f.act)
	if err != nil {
		return err
	}
	if cfg.Hash.Family, err = ntk.ParseFamily(f.family); err != nil {
		return err
	}
	if cfg.Hash.Query, err = ntk.ParseQueryMode(f.query); err != nil {
		return err
	}
	cfg.Hash.Seed = f.hashSeed
	cfg.Seed = f.seed
	be, why, err := selectBackend(f.kernels)
	if err != nil {
		return err
	}
	samplers := strings.Split(f.samplers, ",")
	for i := range samplers {
		samplers[i] = strings.TrimSpace(samplers[i])
	}

	if f.ckptDir != "" && len(samplers) != 1 {
		return fmt.Errorf("--checkpoint and --resume need a single --sampler (got %q)", f.samplers)
	}
	if f.ckptDir != "" && f.resumeDir == "" && hasCheckpoint(f.ckptDir) {
		return fmt.Errorf("%s already holds a checkpoint: pass --resume %s to continue it, or choose another directory", f.ckptDir, f.ckptDir)
	}
	rep := newReporter(stderr, f.quiet, f.logFormat == "json")
	train, test, norm, spec, err := loadData(f, rep)
	if err != nil {
		return err
	}
	if f.epochs > 0 {
		if f.epochs > 1e6 {
			return fmt.Errorf("--epochs %g is absurd (max 1e6)", f.epochs)
		}
		cfg.Iters = max(1, int(math.Round(f.epochs*float64(train.N)/float64(cfg.Batch))))
	}
	for _, s := range samplers {
		c := cfg
		c.Sampler = s
		if err := c.Validate(); err != nil {
			return err
		}
	}
	mcfg := nn.Config{In: train.D, Out: train.O, Hidden: hidden, Activation: act, Seed: f.seed}
	if err := mcfg.Validate(); err != nil {
		return err
	}
	var logw *metricsLog
	if f.logPath != "" {
		if logw, err = newMetricsLog(f.logPath); err != nil {
			return err
		}
		defer logw.Close()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fp := ""
	if f.ckptDir != "" {
		fp = fingerprint(train)
	}

	probe, _ := nn.New(mcfg)
	rep.event("start", map[string]any{"data": train.Name, "train_points": train.N, "test_points": testN(test), "features": train.D, "outputs": train.O,
		"model": probe.String(), "backend": be.Name(), "backend_reason": why, "iters": cfg.Iters, "batch": cfg.Batch},
		fmt.Sprintf("data: %s, %d train / %d test points, %d features, %d outputs\nmodel: %s; backend %s (%s); %d iterations of batch %d (%.2f epochs)\n",
			train.Name, train.N, testN(test), train.D, train.O, probe, be.Name(), why, cfg.Iters, cfg.Batch, float64(cfg.Iters*cfg.Batch)/float64(train.N)))

	if f.cpuProf != "" {
		pf, err := os.Create(f.cpuProf)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	var results []*engine.Result
	for _, s := range samplers {
		c := cfg
		c.Sampler = s
		m, err := nn.New(mcfg) // same initialization for every sampler
		if err != nil {
			return err
		}
		trainBE := be
		acc, err := engine.OpenAccelerator(engine.AcceleratorRequest{Backend: be, Model: m, Train: train, Config: c,
			RehashBatch: max(c.RehashBatch, 8192), DeviceStep: f.deviceStep})
		if err != nil {
			return err
		}
		if acc != nil {
			// Rehashes run on the device; the per-iteration work stays on
			// the best CPU backend (the device backend's per-call copies
			// lose to it on small products).
			trainBE = bestCPUBackend()
		}
		tr, err := engine.NewTrainer(trainBE, m, train, test, c)
		if err != nil {
			acc.Close()
			return err
		}
		acc.Attach(tr)
		rep.beginRun(c.String(), c.Iters)
		tr.Recorder = engine.Observers{OnEval: func(e engine.Eval) {
			rep.eval(s, e)
			if logw != nil {
				logw.eval(s, e)
			}
		}, OnIter: func(r engine.IterRecord) {
			rep.iter(r.Iter + 1)
			if logw != nil {
				logw.iter(s, r)
			}
		}, OnRehashProgress: rep.rehash}
		save := func(st engine.State, finished bool) error {
			ck, err := buildCheckpoint(mcfg, c, st, spec, norm, fp, finished)
			if err != nil {
				return err
			}
			if err := checkpoint.Write(f.ckptDir, ck); err != nil {
				return err
			}
			rep.event("checkpoint", map[string]any{"dir": f.ckptDir, "iter": st.Iter}, "")
			return nil
		}
		if f.ckptDir != "" {
			tr.CheckpointEvery = f.ckptEvery
			tr.OnCheckpoint = func(st engine.State) error { return save(st, false) }
		}
		if f.resumeDir != "" {
			st, err := resumeState(f.resumeDir, mcfg, c, fp)
			if err != nil {
				acc.Close()
				return err
			}
			if err := tr.Restore(st); err != nil {
				acc.Close()
				return fmt.Errorf("resuming from %s: %w", f.resumeDir, err)
			}
			rep.event("resume", map[string]any{"dir": f.resumeDir, "iter": st.Iter}, fmt.Sprintf("resuming %s at iteration %d\n", f.resumeDir, st.Iter))
		}
		res, err := tr.Train(ctx)
		rep.endRun()
		if cerr := acc.Close(); cerr != nil && err == nil {
			err = cerr
		}
		var ie *engine.InterruptedError
		if errors.As(err, &ie) && f.ckptDir != "" {
			if err := save(tr.State(), false); err != nil {
				return fmt.Errorf("interrupted at iteration %d, and the checkpoint failed: %w", ie.Iter, err)
			}
			fmt.Fprintf(stderr, "ntklsh train: interrupted at iteration %d; checkpoint written to %s; continue with the same flags and --resume %s\n", ie.Iter, f.ckptDir, f.ckptDir)
			return errInterrupted
		}
		if err != nil {
			if f.ckptDir != "" {
				return fmt.Errorf("%w (the last good checkpoint in %s is kept)", err, f.ckptDir)
			}
			return err
		}
		if f.ckptDir != "" {
			if err := save(tr.State(), true); err != nil {
				return err
			}
		}
		results = append(results, res)
	}
	printSummary(stdout, results, f.targetLoss)
	if logw != nil {
		return logw.Close()
	}
	return nil
}

func testN(d *data.Dataset) int {
	if d == nil {
		return 0
	}
	return d.N
}

func loadData(f trainFlags, rep *reporter) (train, test *data.Dataset, norm *data.Standardizer, spec dataSpec, err error) {
	if f.maxRows < 0 {
		return nil, nil, nil, spec, fmt.Errorf("--max-rows %d must be ≥ 0", f.maxRows)
	}
	if !(f.testFrac >= 0 && f.testFrac < 1) {
		return nil, nil, nil, spec, fmt.Errorf("--test-frac %g outside [0, 1)", f.testFrac)
	}
	var hdr data.HeaderMode
	switch f.header {
	case "auto":
		hdr = data.HeaderAuto
	case "yes", "true":
		hdr = data.HeaderYes
	case "no", "false":
		hdr = data.HeaderNo
	default:
		return nil, nil, nil, spec, fmt.Errorf("--header %q: want auto, yes or no", f.header)
	}
	csvOpt := data.CSVOptions{Target: f.target, Targets: f.targets, Header: hdr, OneHot: f.oneHot, MaxRows: f.maxRows}
	svmOpt := data.LIBSVMOptions{OneHot: f.oneHot, MaxRows: f.maxRows}
	var all *data.Dataset
	if f.dataPath == "" {
		all, err = data.Teacher(data.TeacherConfig{N: f.synN, D: f.synD, Hidden: f.synHidden, O: f.synOut, TailDOF: f.synTail, Noise: f.synNoise, Seed: f.seed})
	} else {
		all, err = data.LoadProgress(f.dataPath, f.format, csvOpt, svmOpt, rep.loading(f.dataPath))
		rep.endLoading()
	}
	if err != nil {
		return nil, nil, nil, spec, err
	}
	spec = dataSpec{Source: "synthetic", Format: f.format, Target: f.target, Targets: f.targets, Header: f.header, OneHot: f.oneHot,
		Classes: all.Classes, Features: all.D, Outputs: all.O, Names: all.FeatureNames}
	if f.dataPath != "" {
		spec.Source = f.dataPath
	}
	if f.testPath != "" {
		train = all
		svmOpt.Features = all.D
		test, err = data.LoadProgress(f.testPath, f.format, csvOpt, svmOpt, rep.loading(f.testPath))
		rep.endLoading()
		if err != nil {
			return nil, nil, nil, spec, err
		}
		if test.D != train.D || test.O != train.O {
			return nil, nil, nil, spec, fmt.Errorf("%s has %d features and %d targets, but %s has %d and %d", f.testPath, test.D, test.O, f.dataPath, train.D, train.O)
		}
	} else if f.testFrac > 0 {
		if train, test, err = data.Split(all, f.testFrac, f.seed); err != nil {
			return nil, nil, nil, spec, err
		}
	} else {
		train = all
	}
	if train.N < 1 {
		return nil, nil, nil, spec, errors.New("no training points")
	}
	if f.standardize {
		norm = data.FitStandardizer(train, f.oneHot == 0)
		if err := norm.Apply(train); err != nil {
			return nil, nil, nil, spec, err
		}
		if test != nil {
			if err := norm.Apply(test); err != nil {
				return nil, nil, nil, spec, err
			}
		}
	}
	return train, test, norm, spec, nil
}

// timeToTarget returns the training seconds and iterations of the first
// evaluation whose train loss is at most target.
func timeToTarget(r *engine.Result, target float64) (float64, int, bool) {
	for _, e := range r.Evals {
		if e.TrainLoss <= target {
			return e.TrainSeconds, e.Iter, true
		}
	}
	return 0, 0, false
}

func median(v []float64) float64 {
	var w []float64
	for _, x := range v {
		if !math.IsNaN(x) {
			w = append(w, x)
		}
	}
	if len(w) == 0 {
		return math.NaN()
	}
	sort.Float64s(w)
	if len(w)%2 == 1 {
		return w[len(w)/2]
	}
	return (w[len(w)/2-1] + w[len(w)/2]) / 2
}

func printSummary(w io.Writer, results []*engine.Result, target float64) {
	if target <= 0 {
		for _, r := range results {
			target = math.Max(target, r.Final.TrainLoss)
		}
		target *= 1.05
	}
	fmt.Fprintf(w, "\nsummary (target train loss %.6g; times are training seconds: sampling + gradient + rehash, evaluation excluded;\n", target)
	fmt.Fprintf(w, "2nd-moment ratio: E|ĝ|² of the one-draw estimator ÷ uniform's, median over evaluations; ideal: p ∝ true |g_i|)\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "sampler\ttrain loss\ttest loss\ttrain s\twall s\titers\ts to target\titers to target\t2nd-moment ratio\tideal\t")
	for _, r := range results {
		var sm, id []float64
		for _, e := range r.Evals[1:] {
			sm = append(sm, e.SecondMoment)
			id = append(id, e.Ideal)
		}
		tt, it, ok := timeToTarget(r, target)
		tts, its := "not reached", "-"
		if ok {
			tts, its = fmt.Sprintf("%.3f", tt), fmt.Sprint(it)
		}
		fmt.Fprintf(tw, "%s\t%.6g\t%.6g\t%.3f\t%.3f\t%d\t%s\t%s\t%.3f\t%.3f\t\n", r.Sampler, r.Final.TrainLoss, r.Final.TestLoss,
			r.Final.TrainSeconds, r.Wall.Seconds(), r.Final.Iter, tts, its, median(sm), median(id))
	}
	tw.Flush()
}

// metricsLog writes per-iteration and evaluation rows as JSON lines or CSV.
type metricsLog struct {
	f    *os.File
	csv  *csv.Writer
	json *json.Encoder
	err  error
}

var csvColumns = []string{"kind", "sampler", "iter", "epoch", "lr", "batch_loss", "train_loss", "test_loss", "train_s", "sample_s", "grad_s", "rehash_s",
	"rehashes", "second_moment_ratio", "ideal_ratio", "kl", "ess_fraction", "max_weight", "nonempty_buckets"}

func newMetricsLog(path string) (*metricsLog, error) {
	ext := strings.ToLower(filepath.Ext(path))
	if ext != ".csv" && ext != ".jsonl" && ext != ".json" {
		return nil, fmt.Errorf("--log %s: the name must end in .csv or .jsonl", path)
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--log: %w", err)
	}
	l := &metricsLog{f: f}
	if ext == ".csv" {
		l.csv = csv.NewWriter(f)
		l.err = l.csv.Write(csvColumns)
	} else {
		l.json = json.NewEncoder(f)
	}
	return l, nil
}

func num(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', 8, 64)
}

func jnum(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return v
}

func (l *metricsLog) iter(s string, r engine.IterRecord) {
	if l.err != nil {
		return
	}
	if l.csv != nil {
		l.err = l.csv.Write([]string{"iter", s, fmt.Sprint(r.Iter), "", num(r.LR), num(r.BatchLoss), "", "", num(r.SampleSeconds + r.GradSeconds + r.RehashSeconds),
			num(r.SampleSeconds), num(r.GradSeconds), num(r.RehashSeconds), "", "", "", "", "", num(r.MaxWeight), ""})
		return
	}
	l.err = l.json.Encode(map[string]any{"kind": "iter", "sampler": s, "iter": r.Iter, "lr": r.LR, "batch_loss": jnum(r.BatchLoss),
		"max_weight": jnum(r.MaxWeight), "sample_s": r.SampleSeconds, "grad_s": r.GradSeconds, "rehash_s": r.RehashSeconds})
}

func (l *metricsLog) eval(s string, e engine.Eval) {
	if l.err != nil {
		return
	}
	if l.csv != nil {
		l.err = l.csv.Write([]string{"eval", s, fmt.Sprint(e.Iter), num(e.Epoch), num(e.LR), "", num(e.TrainLoss), num(e.TestLoss), num(e.TrainSeconds),
			num(e.SampleSeconds), num(e.GradSeconds), num(e.RehashSeconds), fmt.Sprint(e.Rehashes), num(e.SecondMoment), num(e.Ideal), num(e.KL),
			num(e.ESS), num(e.MaxWeight), fmt.Sprint(e.NonEmpty)})
		return
	}
	l.err = l.json.Encode(map[string]any{"kind": "eval", "sampler": s, "iter": e.Iter, "epoch": e.Epoch, "lr": e.LR, "train_loss": jnum(e.TrainLoss),
		"test_loss": jnum(e.TestLoss), "train_s": e.TrainSeconds, "sample_s": e.SampleSeconds, "grad_s": e.GradSeconds, "rehash_s": e.RehashSeconds,
		"rehashes": e.Rehashes, "second_moment_ratio": jnum(e.SecondMoment), "ideal_ratio": jnum(e.Ideal), "kl": jnum(e.KL),
		"ess_fraction": jnum(e.ESS), "max_weight": jnum(e.MaxWeight), "nonempty_buckets": e.NonEmpty})
}

// Close flushes and closes the file and reports the first write error.
func (l *metricsLog) Close() error {
	if l.f == nil {
		return l.err
	}
	if l.csv != nil {
		l.csv.Flush()
		if l.err == nil {
			l.err = l.csv.Error()
		}
	}
	if err := l.f.Close(); l.err == nil && err != nil {
		l.err = err
	}
	l.f = nil
	if l.err != nil {
		return fmt.Errorf("writing the metrics log: %w", l.err)
	}
	return nil
}

// bestCPUBackend is the best usable backend that is not an accelerator.
func bestCPUBackend() kernels.Backend {
	for _, name := range kernels.Names() {
		if name == "cuda" {
			continue
		}
		if b, _, err := kernels.Select(name); err == nil {
			return b
		}
	}
	return kernels.Generic
}
