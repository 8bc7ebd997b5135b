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
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/ntklsh/ntklsh/engine"
	"github.com/ntklsh/ntklsh/engine/checkpoint"
	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/engine/ntk"
	"github.com/ntklsh/ntklsh/kernels"
)

var errUsage = errors.New("bad usage")

// defaultSamplers are compared when --sampler is not given on the built-in
// synthetic set (the demonstration); defaultDataSampler alone trains a
// user's --data: ntk-drift is the importance sampler the time-to-target
// benchmark found fastest (docs/RESULTS.md §0 and §0.8: ahead of ntk-static
// wherever both reached the target, ahead of lsh in every setting), and the
// O(N·P) true sampler of the comparison is no default for a real data set.
const (
	defaultSamplers    = "uniform,lsh,ntk-static,true"
	defaultDataSampler = engine.DefaultSampler
)

type trainFlags struct {
	dataPath, format, testPath string
	target                     targetFlag
	targets, oneHot            int
	header, sep                string
	features, categorical      string
	xent                       bool // --loss xent: the target holds class labels
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
	plotPath   string
	targetLoss float64
	quiet      bool
	cpuProf    string
	deviceStep deviceStepFlag
	ckptDir    string
	ckptEvery  int
	resumeDir  string
	logFormat  string
	hashSeed   uint64
	rehashMode string
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

// trainOptions is what the train command's flags ask for, checked.
type trainOptions struct {
	f          trainFlags
	cfg        engine.Config // the configuration shared by every sampler
	hidden     []int
	act        nn.Activation
	samplers   []string
	be         kernels.Backend
	backendWhy string
}

// defineTrainFlags registers the train command's flags on fs, writing into f
// and cfg (whose current values are the defaults).
func defineTrainFlags(fs *flag.FlagSet, f *trainFlags, cfg *engine.Config) {
	// Data.
	fs.StringVar(&f.dataPath, "data", "", "training data: CSV or LIBSVM (optionally .gz/.bz2), or NumPy .npy/.npz (default: built-in synthetic teacher set)")
	fs.StringVar(&f.format, "format", "", "data format: csv, libsvm, npy (.npy matrix or .npz with arrays x and y) or parquet (default: from the file name)")
	fs.StringVar(&f.testPath, "test", "", "test data file (default: split --test-frac off the training data)")
	fs.Var(&f.target, "target", targetHelp)
	fs.StringVar(&f.sep, "sep", "auto", sepHelp)
	fs.StringVar(&f.features, "features", "", featuresHelp)
	fs.StringVar(&f.categorical, "categorical", "refuse", categoricalHelp)
	fs.IntVar(&f.targets, "targets", 1, "CSV: number of consecutive target columns")
	fs.IntVar(&f.oneHot, "onehot", 0, "classification: expand integer labels into this many one-hot outputs (multi-output MSE, or the classes of --loss xent)")
	fs.Func("loss", "training loss: mse (½|f−y|², default) or xent (softmax cross-entropy over the classes of the target column: any integer or text labels, one output each, or the --onehot classes; without --data, the built-in class teacher with --syn-out classes, 5 when 1)", func(v string) error {
		l, err := nn.ParseLoss(v)
		if err != nil {
			return err
		}
		cfg.Loss = ""
		if l != nn.MSE {
			cfg.Loss = l.String() // mse stays "", as in DefaultConfig (and old checkpoints)
		}
		return nil
	})
	fs.Func("multi-output", "mse with several outputs: what the NTK linearization of lsh and ntk-exact linearizes: sum (the pNTK sum of the outputs, default) or residual (the residual's direction at each rehash; docs/RESULTS.md)", func(v string) error {
		mo, err := ntk.ParseMultiOutput(v)
		if err != nil {
			return err
		}
		cfg.MultiOutput = ""
		if mo != ntk.SumOfLogits {
			cfg.MultiOutput = mo.String()
		}
		return nil
	})
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
	fs.StringVar(&f.samplers, "sampler", "", "sampler(s), comma separated: "+strings.Join(engine.SamplerNames(), ", ")+
		" (default: "+defaultSamplers+" compared on the built-in synthetic set; "+defaultDataSampler+" with --data)")
	fs.IntVar(&cfg.Batch, "batch", cfg.Batch, "minibatch size B")
	fs.IntVar(&cfg.Iters, "iters", cfg.Iters, "SGD iterations (see --epochs)")
	fs.Float64Var(&f.epochs, "epochs", 0, "train for this many epochs instead of --iters")
	fs.Float64Var(&cfg.LR, "lr", cfg.LR, "learning rate")
	fs.StringVar(&cfg.Schedule, "schedule", cfg.Schedule, "learning-rate schedule: constant, linear or cosine")
	fs.Float64Var(&cfg.Momentum, "momentum", cfg.Momentum, "heavy-ball momentum in [0, 1)")
	fs.Float64Var(&cfg.ClipNorm, "clip-norm", cfg.ClipNorm, "clip the importance-weighted minibatch gradient to this Euclidean norm before the step (0: off)")
	fs.Func("step-size", "step size: fixed (default: --lr), gn (damped Gauss–Newton step along the gradient or momentum direction, at most --lr) or newton (linear model, --hidden 0: minibatch normal equations, or the full least squares with --batch N; min(--lr, 1) of the Newton step)", func(v string) error {
		if cfg.StepSize = v; v == engine.StepFixed {
			cfg.StepSize = "" // the default, as in DefaultConfig (and old checkpoints)
		}
		return nil
	})
	fs.IntVar(&cfg.RehashEvery, "rehash-every", cfg.RehashEvery, "rehash every R iterations (0: use --rehash-epochs)")
	fs.Float64Var(&cfg.RehashEpochs, "rehash-epochs", cfg.RehashEpochs, "rehash every E epochs")
	fs.StringVar(&f.rehashMode, "rehash", "periodic", "when to rehash: periodic (--rehash-every / --rehash-epochs) or auto (when the running second-moment estimate says the sampler's drift costs more than a rehash, see --rehash-cost; uniform draws while the sampler is estimated no better than uniform)")
	fs.Float64Var(&cfg.RehashCost, "rehash-cost", cfg.RehashCost, "--rehash auto: a rehash's cost in iterations (0: a work model; a tenth of the lag with --background-rehash)")
	fs.BoolVar(&cfg.Background, "background-rehash", cfg.Background, "rehash off the critical path on a snapshot of the parameters, switched in --rehash-lag iterations later (the loop waits if it is late); uniform draws until the first is in")
	fs.BoolVar(&cfg.BlockingFirst, "blocking-first-rehash", cfg.BlockingFirst, "--background-rehash: make the first rehash a blocking one at iteration 0 instead of drawing uniformly until the first background one is in")
	fs.IntVar(&cfg.RehashLag, "rehash-lag", cfg.RehashLag, "--background-rehash: iterations from a rehash's start to its switch (0: a work model, about 3N/(2·B·rehash-workers))")
	fs.IntVar(&cfg.RehashWorkers, "rehash-workers", cfg.RehashWorkers, "--background-rehash: goroutines of the background rehash (0: GOMAXPROCS−1, at least 1); the steps' GEMMs use the other cores")
	fs.Float64Var(&cfg.Eps, "eps", cfg.Eps, "uniform mixing ε of the adaptive samplers, p = (1−ε)p_sampler + ε/N")
	fs.IntVar(&cfg.Warmup, "warmup", cfg.Warmup, "ramp the learning rate linearly over the first N iterations (0: none), then follow --schedule")
	fs.IntVar(&cfg.QueryEvery, "query-every", cfg.QueryEvery, "lsh: minibatches drawn from one query (0, 1: a query per minibatch); the weights stay exact for the query in use, a stale query only costs variance")
	fs.StringVar(&cfg.Prob, "prob", cfg.Prob, "lsh importance weights: exact (the probability of the draw given tables and query: unbiased) or lgd (Chen et al. 2019's estimate cp^K(1−cp^K)^(l−1)/|bucket|: BIASED, for comparison)")
	fs.IntVar(&cfg.Hash.K, "K", cfg.Hash.K, "hash bits per table, 1..16")
	fs.IntVar(&cfg.Hash.L, "L", cfg.Hash.L, "hash tables, 1..512")
	fs.StringVar(&f.family, "family", cfg.Hash.Family.String(), "projection family: structured (per-layer u^T δ h^T v, default), sparse (the same with very sparse ±1 factors, see --density) or dense (Gaussian over all of a_i, reference)")
	fs.Float64Var(&cfg.Hash.Density, "density", cfg.Hash.Density, "--family sparse: fraction of non-zero entries of each factor, at least 8 (0: 1/32)")
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
	fs.Float64Var(&cfg.DriftLambda, "drift-lambda", cfg.DriftLambda, "ntk-drift sampler: λ of the drift bound |∇ℓ_i(w0)| + λ|a_i|²|w−w0| (0: default 0.02; negative: fitted at each rehash)")
	fs.IntVar(&cfg.EvalEvery, "eval-every", 0, "full train/test loss and diagnostics every N iterations (0: 20 times per run)")
	fs.IntVar(&cfg.DiagSubset, "diag-subset", cfg.DiagSubset, "points on which the diagnostics compute true gradient norms")
	fs.IntVar(&cfg.RehashBatch, "rehash-batch", cfg.RehashBatch, "examples per Jacobian batch in a rehash and in full passes")
	fs.IntVar(&cfg.Workers, "workers", 0, "goroutines for rehash and full passes (0: GOMAXPROCS)")
	fs.StringVar(&f.kernels, "kernels", "", "kernel backend: generic, avx2, cuda (default: $NTKLSH_KERNELS or automatic)")
	fs.StringVar(&f.logPath, "log", "", "write per-iteration and evaluation metrics to this file (.csv or .jsonl)")
	fs.Float64Var(&f.targetLoss, "target-loss", 0, "target loss for time-to-target: a test loss (a train loss without a test set); reached at the first evaluation at or below it after which the loss stays below 1.1× it (0: 1.1 × the lowest final loss of the compared samplers)")
	fs.StringVar(&f.plotPath, "plot", "", "draw test loss (train loss without a test set) against training seconds of every sampler into this PNG file")
	fs.BoolVar(&f.quiet, "quiet", false, "print only the summary")
	fs.Var(&f.deviceStep, "device-step", "with an accelerator backend (cuda): run the SGD steps on the device too: --device-step=auto (default: where the measured rule says it is faster, cuda/RESULTS.md), --device-step=on or bare --device-step (an error for settings it does not support) or --device-step=off")
	fs.StringVar(&f.logFormat, "log-format", "text", "progress on stderr: text (a progress bar on a terminal) or json (one object per line)")
	fs.StringVar(&f.ckptDir, "checkpoint", "", "write checkpoints (model, optimizer, RNG, iteration, normalization) to this directory; also on SIGINT/SIGTERM and at the end")
	fs.IntVar(&f.ckptEvery, "checkpoint-every", 0, "checkpoint every N iterations (0: only on interrupt and at the end)")
	fs.StringVar(&f.resumeDir, "resume", "", "continue the run checkpointed in this directory (same flags as the interrupted run)")
	fs.StringVar(&f.cpuProf, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
	if distFlags != nil {
		distFlags(fs)
	}
}

// distFlags and distRun are set by the build with the mpi tag
// (train_mpi.go): they define the --distributed flags and, when asked for,
// run the train command on every rank of an MPI job.
var (
	distFlags func(fs *flag.FlagSet)
	distRun   func(o *trainOptions, stdout, stderr io.Writer) (handled bool, err error)
)

// parseTrain parses and checks the train command's flags.
func parseTrain(args []string, stderr io.Writer) (*trainOptions, error) {
	o := &trainOptions{cfg: engine.DefaultConfig()}
	f, cfg := &o.f, &o.cfg
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	defineTrainFlags(fs, f, cfg)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, flag.ErrHelp
		}
		return nil, errUsage
	}
	if fs.NArg() > 0 {
		if v := fs.Arg(0); v == "auto" || v == "on" || v == "off" {
			return nil, fmt.Errorf("unexpected argument %q (--device-step takes its value with '=': --device-step=%s)", v, v)
		}
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if f.logFormat != "text" && f.logFormat != "json" {
		return nil, fmt.Errorf("--log-format %q: want text or json", f.logFormat)
	}
	if f.ckptEvery < 0 {
		return nil, fmt.Errorf("--checkpoint-every %d must be ≥ 0", f.ckptEvery)
	}
	if f.resumeDir != "" && f.ckptDir == "" {
		f.ckptDir = f.resumeDir
	}
	if f.ckptEvery > 0 && f.ckptDir == "" {
		return nil, errors.New("--checkpoint-every needs --checkpoint DIR")
	}
	if f.plotPath != "" && !strings.EqualFold(filepath.Ext(f.plotPath), ".png") {
		return nil, fmt.Errorf("--plot %s: the name must end in .png", f.plotPath)
	}
	f.xent = cfg.LossFunc() == nn.Xent
	if err := checkTrainFlags(f, cfg.RehashBatch, cfg.Workers); err != nil {
		return nil, err
	}
	var err error
	if o.hidden, err = parseHidden(f.hidden); err != nil {
		return nil, err
	}
	if o.act, err = nn.ParseActivation(f.act); err != nil {
		return nil, err
	}
	if cfg.Hash.Family, err = ntk.ParseFamily(f.family); err != nil {
		return nil, err
	}
	if cfg.Hash.Query, err = ntk.ParseQueryMode(f.query); err != nil {
		return nil, err
	}
	cfg.Hash.Seed = f.hashSeed
	switch f.rehashMode {
	case "periodic":
	case "auto":
		cfg.RehashAuto = true
	default:
		return nil, fmt.Errorf("--rehash %q: want periodic or auto", f.rehashMode)
	}
	cfg.Seed = f.seed
	if o.be, o.backendWhy, err = selectBackend(f.kernels); err != nil {
		return nil, err
	}
	if strings.TrimSpace(f.samplers) == "" {
		f.samplers = defaultSamplers
		if f.dataPath != "" {
			f.samplers = defaultDataSampler
		}
	}
	o.samplers = strings.Split(f.samplers, ",")
	for i := range o.samplers {
		o.samplers[i] = strings.TrimSpace(o.samplers[i])
	}
	if f.ckptDir != "" && len(o.samplers) != 1 {
		return nil, fmt.Errorf("--checkpoint and --resume need a single --sampler (got %q)", f.samplers)
	}
	if f.ckptDir != "" && f.resumeDir == "" && hasCheckpoint(f.ckptDir) {
		return nil, fmt.Errorf("%s already holds a checkpoint: pass --resume %s to continue it, or choose another directory", f.ckptDir, f.ckptDir)
	}
	if f.ckptDir != "" {
		if err := probeCheckpointDir(f.ckptDir); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// trainSession is what every sampler's run shares: the data, the model's
// configuration, the progress reporter and the metrics log.
type trainSession struct {
	*trainOptions
	train, test *data.Dataset
	norm        *data.Standardizer
	spec        dataSpec
	mcfg        nn.Config
	fp          string // data fingerprint (only with checkpoints)
	rep         *reporter
	logw        *metricsLog
}

// buildTrain loads the data and checks the configuration of every sampler
// against it.
func buildTrain(o *trainOptions, rep *reporter) (*trainSession, error) {
	s := &trainSession{trainOptions: o, rep: rep}
	var err error
	if s.train, s.test, s.norm, s.spec, err = loadData(o.f, rep); err != nil {
		return nil, err
	}
	if o.cfg.Batch > s.train.N {
		return nil, fmt.Errorf("--batch %d is larger than the %d training points", o.cfg.Batch, s.train.N)
	}
	if o.f.epochs > 0 {
		o.cfg.Iters = max(1, int(math.Round(o.f.epochs*float64(s.train.N)/float64(o.cfg.Batch))))
	}
	if err := validateSamplers(o.cfg, o.samplers); err != nil {
		return nil, err
	}
	if err := checkDeviceStep(o.f.deviceStep.mode, o.be, o.cfg, o.samplers); err != nil {
		return nil, err
	}
	s.mcfg = nn.Config{In: s.train.D, Out: s.train.O, Hidden: o.hidden, Activation: o.act, Seed: o.f.seed, Loss: o.cfg.LossFunc()}
	if err := s.mcfg.Validate(); err != nil {
		return nil, err
	}
	if o.f.logPath != "" {
		if s.logw, err = newMetricsLog(o.f.logPath); err != nil {
			return nil, err
		}
	}
	if o.f.ckptDir != "" {
		s.fp = fingerprint(s.train)
	}
	return s, nil
}

// announce reports the data, model and backend of the session.
func (s *trainSession) announce() {
	train, cfg := s.train, s.cfg
	probe, _ := nn.New(s.mcfg)
	s.rep.event("start", map[string]any{"data": train.Name, "train_points": train.N, "test_points": testN(s.test), "features": train.D, "outputs": train.O,
		"model": probe.String(), "backend": s.be.Name(), "backend_reason": s.backendWhy, "iters": cfg.Iters, "batch": cfg.Batch},
		fmt.Sprintf("data: %s, %d train / %d test points, %d features, %d outputs\nmodel: %s; backend %s (%s); %d iterations of batch %d (%.2f epochs)\n",
			train.Name, train.N, testN(s.test), train.D, train.O, probe, s.be.Name(), s.backendWhy, cfg.Iters, cfg.Batch, float64(cfg.Iters*cfg.Batch)/float64(train.N)))
}

// close flushes the metrics log.
func (s *trainSession) close() error {
	if s.logw != nil {
		return s.logw.Close()
	}
	return nil
}

// runSampler trains a freshly initialized model (the same initialization for
// every sampler) with one sampler. Device resources it takes are released
// when it returns.
func (s *trainSession) runSampler(ctx context.Context, name string) (*engine.Result, error) {
	f, rep, logw, train := &s.f, s.rep, s.logw, s.train
	c := samplerConfig(s.cfg, name)
	m, err := nn.New(s.mcfg)
	if err != nil {
		return nil, err
	}
	trainBE := s.be
	acc, err := engine.OpenAccelerator(engine.AcceleratorRequest{Backend: s.be, Model: m, Train: train, Config: c,
		RehashBatch: max(c.RehashBatch, 8192), DeviceStep: f.deviceStep.mode})
	if err != nil {
		return nil, err
	}
	if acc != nil && acc.StepNote != "" {
		rep.event("device_step", map[string]any{"sampler": name, "device_step": acc.Stepper != nil, "note": acc.StepNote},
			fmt.Sprintf("%s: %s\n", name, acc.StepNote))
	}
	// The accelerator's resources are released when this run ends.
	defer acc.Close()
	if acc != nil {
		// Rehashes run on the device; the per-iteration work stays on
		// the best CPU backend (the device backend's per-call copies
		// lose to it on small products).
		trainBE = bestCPUBackend()
	}
	tr, err := engine.NewTrainer(trainBE, m, train, s.test, c)
	if err != nil {
		return nil, err
	}
	acc.Attach(tr)
	// The running second-moment estimate is shown in the progress line and
	// the metrics log; without either it is not worth its cost.
	tr.TrackEstimate = !f.quiet || f.logPath != ""
	rep.beginRun(c.String(), c.Iters, c.StepSize != "" && c.StepSize != engine.StepFixed)
	tr.Recorder = engine.Observers{OnEval: func(e engine.Eval) {
		rep.eval(name, e)
		if logw != nil {
			logw.eval(name, e)
		}
	}, OnIter: func(r engine.IterRecord) {
		rep.iter(r.Iter + 1)
		rep.step(r.StepStats)
		if logw != nil {
			logw.iter(name, r)
		}
	}, OnRehashProgress: rep.rehash}
	save := func(st engine.State, finished bool) error {
		ck, err := buildCheckpoint(s.mcfg, c, st, s.spec, s.norm, s.fp, finished, trainBE.Name())
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
		st, info, err := resumeState(f.resumeDir, s.mcfg, c, s.fp)
		if err != nil {
			return nil, err
		}
		if err := tr.Restore(st); err != nil {
			return nil, fmt.Errorf("resuming from %s: %w", f.resumeDir, err)
		}
		rep.event("resume", map[string]any{"dir": f.resumeDir, "iter": st.Iter}, fmt.Sprintf("resuming %s at iteration %d\n", f.resumeDir, st.Iter))
		for _, note := range resumeNotes(info, st.Iter, c, trainBE.Name()) {
			fmt.Fprintf(rep.w, "ntklsh train: %s\n", note)
		}
	}
	res, err := tr.Train(ctx)
	rep.endRun()
	if cerr := acc.Close(); cerr != nil && err == nil {
		err = cerr
	}
	var ie *engine.InterruptedError
	if errors.As(err, &ie) && f.ckptDir != "" {
		if err := save(tr.State(), false); err != nil {
			return nil, fmt.Errorf("interrupted at iteration %d, and the checkpoint failed: %w", ie.Iter, err)
		}
		fmt.Fprintf(rep.w, "ntklsh train: interrupted at iteration %d; checkpoint written to %s; continue with the same flags and --resume %s\n", ie.Iter, f.ckptDir, f.ckptDir)
		return res, fmt.Errorf("%w: %w", errInterrupted, ie)
	}
	if errors.As(err, &ie) {
		fmt.Fprintf(rep.w, "ntklsh train: interrupted at iteration %d; nothing saved (no --checkpoint)\n", ie.Iter)
		return res, fmt.Errorf("%w: %w", errInterrupted, ie)
	}
	if err != nil {
		if f.ckptDir != "" && hasCheckpoint(f.ckptDir) {
			return res, fmt.Errorf("%w (the last good checkpoint in %s is kept)", err, f.ckptDir)
		}
		return res, err
	}
	if f.ckptDir != "" {
		if err := save(tr.State(), true); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// runTrain is the train command: parse, build, run each sampler, report.
func runTrain(args []string, stdout, stderr io.Writer) error {
	o, err := parseTrain(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if distRun != nil {
		if handled, err := distRun(o, stdout, stderr); handled {
			return err
		}
	}
	rep := newReporter(stderr, o.f.quiet, o.f.logFormat == "json")
	s, err := buildTrain(o, rep)
	if err != nil {
		return err
	}
	defer s.close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s.announce()
	if o.f.cpuProf != "" {
		pf, err := os.Create(o.f.cpuProf)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	// A sampler that diverges is reported in the summary and the others
	// still run; an interrupt ends the comparison, and the summary shows
	// what was done until then.
	var rows []summaryRow
	var failed []error
	for _, name := range o.samplers {
		res, err := s.runSampler(ctx, name)
		var de *engine.DivergedError
		switch {
		case err == nil:
			rows = append(rows, summaryRow{loss: s.mcfg.Loss, res: res})
			continue
		case errors.Is(err, errInterrupted):
			var ie *engine.InterruptedError
			if res != nil && len(res.Evals) > 0 && errors.As(err, &ie) {
				rows = append(rows, summaryRow{loss: s.mcfg.Loss, res: res, note: fmt.Sprintf("interrupted at iteration %d", ie.Iter)})
			}
			if len(rows) > 0 {
				printSummary(stdout, rows, o.f.targetLoss)
			}
			return errInterrupted
		case errors.As(err, &de) && len(o.samplers) > 1:
			fmt.Fprintf(stderr, "ntklsh train: %v\n", err)
			if res != nil && len(res.Evals) > 0 {
				rows = append(rows, summaryRow{loss: s.mcfg.Loss, res: res, note: fmt.Sprintf("diverged at iteration %d", de.Iter)})
			}
			failed = append(failed, fmt.Errorf("%s diverged at iteration %d", name, de.Iter))
			continue
		}
		if len(rows) > 0 {
			printSummary(stdout, rows, o.f.targetLoss)
		}
		return err
	}
	printSummary(stdout, rows, o.f.targetLoss)
	if o.f.plotPath != "" && len(rows) > 0 {
		if err := plotRuns(o.f.plotPath, rows, o.f.targetLoss); err != nil {
			return err
		}
	}
	if err := s.close(); err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d samplers did not finish: %w", len(failed), len(o.samplers), errors.Join(failed...))
	}
	return nil
}

func testN(d *data.Dataset) int {
	if d == nil {
		return 0
	}
	return d.N
}

// metricsLog writes per-iteration and evaluation rows as JSON lines or CSV.
type metricsLog struct {
	f    *os.File
	csv  *csv.Writer
	json *json.Encoder
	err  error
}

var csvColumns = []string{"kind", "sampler", "iter", "epoch", "lr", "batch_loss", "train_loss", "test_loss", "train_s", "sample_s", "grad_s", "rehash_s",
	"rehashes", "second_moment_ratio", "ideal_ratio", "kl", "ess_fraction", "max_weight", "nonempty_buckets",
	"step_size", "step_t", "pred_decrease", "actual_decrease", "lambda", "rejected"} // the last six: iter rows of --step-size gn|newton

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
			num(r.SampleSeconds), num(r.GradSeconds), num(r.RehashSeconds), "", "", "", "", "", num(r.MaxWeight), "", r.StepSize,
			stepNum(r, r.T), stepNum(r, r.PredDecrease), stepNum(r, r.ActualDecrease), stepNum(r, r.Lambda), stepBool(r, r.Rejected)})
		return
	}
	row := map[string]any{"kind": "iter", "sampler": s, "iter": r.Iter, "lr": r.LR, "batch_loss": jnum(r.BatchLoss),
		"max_weight": jnum(r.MaxWeight), "sample_s": r.SampleSeconds, "grad_s": r.GradSeconds, "rehash_s": r.RehashSeconds,
		"est_second_moment_ratio": jnum(r.EstSecondMoment)}
	if r.StepSize != "" {
		row["step_size"], row["step_t"], row["pred_decrease"], row["actual_decrease"], row["lambda"] = r.StepSize, jnum(r.T),
			jnum(r.PredDecrease), jnum(r.ActualDecrease), jnum(r.Lambda)
		row["rejected"] = r.Rejected
	}
	l.err = l.json.Encode(row)
}

// stepNum is v for an iteration with a calculated step size, empty
// otherwise.
func stepNum(r engine.IterRecord, v float64) string {
	if r.StepSize == "" {
		return ""
	}
	return num(v)
}

// stepBool is b (true/false) for an iteration with a calculated step
// size, empty otherwise.
func stepBool(r engine.IterRecord, b bool) string {
	if r.StepSize == "" {
		return ""
	}
	return strconv.FormatBool(b)
}

func (l *metricsLog) eval(s string, e engine.Eval) {
	if l.err != nil {
		return
	}
	if l.csv != nil {
		l.err = l.csv.Write([]string{"eval", s, fmt.Sprint(e.Iter), num(e.Epoch), num(e.LR), "", num(e.TrainLoss), num(e.TestLoss), num(e.TrainSeconds),
			num(e.SampleSeconds), num(e.GradSeconds), num(e.RehashSeconds), fmt.Sprint(e.Rehashes), num(e.SecondMoment), num(e.Ideal), num(e.KL),
			num(e.ESS), num(e.MaxWeight), fmt.Sprint(e.NonEmpty), "", "", "", "", "", ""})
		return
	}
	row := map[string]any{"kind": "eval", "sampler": s, "iter": e.Iter, "epoch": e.Epoch, "lr": e.LR, "train_loss": jnum(e.TrainLoss),
		"test_loss": jnum(e.TestLoss), "train_s": e.TrainSeconds, "sample_s": e.SampleSeconds, "grad_s": e.GradSeconds, "rehash_s": e.RehashSeconds,
		"rehashes": e.Rehashes, "second_moment_ratio": jnum(e.SecondMoment), "ideal_ratio": jnum(e.Ideal), "kl": jnum(e.KL),
		"ess_fraction": jnum(e.ESS), "max_weight": jnum(e.MaxWeight), "nonempty_buckets": e.NonEmpty,
		"est_second_moment_ratio": jnum(e.EstSecondMoment), "bg_rehash_s": e.BgRehashSeconds, "uniform_draws": e.Uniform}
	if e.TrainXent != 0 || e.TrainAccuracy != 0 { // a classifier
		row["train_acc"], row["test_acc"] = jnum(e.TrainAccuracy), jnum(e.TestAccuracy)
		row["train_xent"], row["test_xent"] = jnum(e.TrainXent), jnum(e.TestXent)
	}
	l.err = l.json.Encode(row)
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

// deviceStepFlag is --device-step: auto (the zero value), on or off; a
// bare --device-step means on, as a boolean flag.
type deviceStepFlag struct{ mode engine.DeviceStepMode }

func (d *deviceStepFlag) String() string { return d.mode.String() }

// IsBoolFlag lets --device-step stand alone (on) and take =false (off).
func (d *deviceStepFlag) IsBoolFlag() bool { return true }

func (d *deviceStepFlag) Set(s string) error {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "auto":
		d.mode = engine.DeviceStepAuto
	case "on", "true", "1":
		d.mode = engine.DeviceStepOn
	case "off", "false", "0":
		d.mode = engine.DeviceStepOff
	default:
		return fmt.Errorf("want auto, on or off, not %q", s)
	}
	return nil
}

// samplerConfig is cfg for one of the compared samplers: the lsh-only
// --query-every applies to lsh alone, so that `--sampler uniform,lsh
// --query-every 8` compares them.
func samplerConfig(cfg engine.Config, name string) engine.Config {
	cfg.Sampler = name
	if name != engine.SamplerLSH && cfg.QueryEvery > 1 {
		// 0 and 1 both mean a query per minibatch; 1 is left as it is
		// so that checkpoints that stored it still resume.
		cfg.QueryEvery = 0
	}
	return cfg
}

// checkDeviceStep refuses --device-step=on before anything runs when the
// backend has no accelerator or a sampler's settings are not supported on
// the device (auto and off never refuse).
func checkDeviceStep(mode engine.DeviceStepMode, be kernels.Backend, cfg engine.Config, samplers []string) error {
	if mode != engine.DeviceStepOn {
		return nil
	}
	if !slices.Contains(engine.Accelerators(), be.Name()) {
		return fmt.Errorf("--device-step=on needs an accelerator backend (--kernels cuda in a build with -tags cuda); the backend is %s", be.Name())
	}
	for _, name := range samplers {
		if err := engine.DeviceStepSupported(samplerConfig(cfg, name)); err != nil {
			return fmt.Errorf("--device-step=on with --sampler %s: %w (use --device-step=auto to step such runs on the host)", name, err)
		}
	}
	return nil
}

// validateSamplers checks cfg for every sampler of the list, and refuses
// --query-every when no sampler of the list is lsh.
func validateSamplers(cfg engine.Config, samplers []string) error {
	if cfg.QueryEvery > 1 && !slices.Contains(samplers, engine.SamplerLSH) {
		return fmt.Errorf("--query-every %d applies to the lsh sampler, which --sampler %s does not include", cfg.QueryEvery, strings.Join(samplers, ","))
	}
	for _, name := range samplers {
		c := samplerConfig(cfg, name)
		if err := c.Validate(); err != nil {
			return err
		}
	}
	return nil
}
