package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/engine/ntk"
	"github.com/ntklsh/ntklsh/engine/sample"
	"github.com/ntklsh/ntklsh/kernels"
)

// Eval is one row of the evaluation log.
type Eval struct {
	Iter  int     `json:"iter"`
	Epoch float64 `json:"epoch"`
	LR    float64 `json:"lr"`
	// Seconds of training so far (sampling + gradient + rehash), excluding
	// evaluation, and its split.
	TrainSeconds  float64 `json:"train_s"`
	SampleSeconds float64 `json:"sample_s"`
	GradSeconds   float64 `json:"grad_s"`
	RehashSeconds float64 `json:"rehash_s"`
	Rehashes      int     `json:"rehashes"`
	TrainLoss     float64 `json:"train_loss"`
	TestLoss      float64 `json:"test_loss"`
	// SecondMoment is E|ĝ|² of the one-draw estimator under the sampler,
	// divided by uniform's (below 1: the sampler lowers variance), over the
	// whole training set, estimated from the diagnostics subset (stratified
	// by a proxy of the gradient norm, Horvitz–Thompson weighted: see
	// diag.go); Ideal is the same for p ∝ |g_i| (the best possible); KL is
	// KL(p*‖p) with p* ∝ |g_i|.
	SecondMoment float64 `json:"second_moment_ratio"`
	Ideal        float64 `json:"ideal_ratio"`
	KL           float64 `json:"kl"`
	// ESS is the effective sample size (Σw)²/Σw² of the importance weights
	// since the last row, as a fraction of the draws; MaxWeight their max.
	ESS       float64 `json:"ess_fraction"`
	MaxWeight float64 `json:"max_weight"`
	// NonEmpty is the number of non-empty (table, sign) buckets of the
	// last lsh query.
	NonEmpty int `json:"nonempty_buckets,omitempty"`
	// ExtraSteps counts the keep-stepping optimizer's extra steps so far.
	ExtraSteps int `json:"extra_steps,omitempty"`
	// EstSecondMoment is the running estimate of SecondMoment from the
	// steps' own minibatches (estimate.go), for the draws actually used;
	// NaN where the stepper does not give the minibatch's gradient norms.
	EstSecondMoment float64 `json:"est_second_moment_ratio"`
	// BgRehashSeconds is the time background rehashes ran (off the
	// critical path, not in TrainSeconds; the loop's waits for them are
	// in RehashSeconds).
	BgRehashSeconds float64 `json:"bg_rehash_s,omitempty"`
	// Uniform says the draws since the last row ended uniform: warm start
	// before the first background rehash, or the automatic fallback.
	Uniform bool `json:"uniform_draws,omitempty"`
	// A classifier's (Out ≥ 2 with the xent loss or one-hot targets)
	// accuracy — the fraction of
	// points whose largest output is the target's class — and mean
	// cross-entropy of softmax(f), on the training and test sets (the test
	// ones NaN without a test set); 0, and left out of JSON, for one output.
	TrainAccuracy float64 `json:"train_acc,omitempty"`
	TestAccuracy  float64 `json:"test_acc,omitempty"`
	TrainXent     float64 `json:"train_xent,omitempty"`
	TestXent      float64 `json:"test_xent,omitempty"`
}

// Result summarizes a run.
type Result struct {
	Sampler string
	Evals   []Eval
	Final   Eval
	Wall    time.Duration
}

// IterRecord is one row of the per-iteration log.
type IterRecord struct {
	Iter          int     `json:"iter"`
	LR            float64 `json:"lr"`
	BatchLoss     float64 `json:"batch_loss"`
	MaxWeight     float64 `json:"max_weight"`
	SampleSeconds float64 `json:"sample_s"`
	GradSeconds   float64 `json:"grad_s"`
	RehashSeconds float64 `json:"rehash_s"`
	// StepStats: the calculated step's size, predicted and actual
	// decrease and damping (Config.StepSize gn or newton; zero otherwise).
	StepStats
	// EstSecondMoment is Eval.EstSecondMoment after this iteration.
	EstSecondMoment float64 `json:"est_second_moment_ratio"`
}

// Trainer runs importance-sampled SGD on one model and data set: every
// iteration it linearizes when a rehash is due (ntk), draws a minibatch
// (sample) and steps (a Stepper).
type Trainer struct {
	be     kernels.Backend
	m      *nn.MLP
	cfg    Config
	x, y   []float32
	n      int
	test   *data.Dataset
	samp   sample.Sampler
	hasher *ntk.Hasher
	lin    *ntk.Linearization
	passes *ntk.Passes
	cpu    *ntk.CPU
	rng    *rand.Rand
	pcg    *rand.PCG
	host   *hostStepper
	idx    []int
	w      []float64
	// The diagnostics' subset (diag.go): diagSize points, drawn in part
	// from diagPerm, a random permutation of the points fixed by the
	// seed; diagXNorm caches √(1+|x_i|²).
	diagSize  int
	diagPerm  []int
	diagXNorm []float64

	// wstat accumulates the importance weights between evaluations
	// (ESS and largest weight of the next row); maxWeightSeen is the
	// largest weight of the run. Both are checkpointed.
	wstat         WeightStats
	maxWeightSeen float64
	// classify: the evaluations compute accuracy and cross-entropy (the
	// loss is xent, or every target row is one-hot).
	classify bool
	// progress of this run (restored by Restore)
	iter int
	// evals holds every evaluation row of the run so far, earlier
	// segments of a resumed run included; wallBefore is the wall time of
	// the segments before this Train call, trainStart its start.
	evals                   []Eval
	wallBefore              time.Duration
	trainStart              time.Time
	tSample, tGrad, tRehash time.Duration
	rehashes                int

	// Background rehashes (background.go): the lag, the linearizer, the
	// job in flight and the spare linearization it fills.
	lag       int
	bgCPU     *ntk.CPU
	pending   *bgJob
	spare     *ntk.Linearization
	tBgRehash time.Duration
	gate      sync.RWMutex // held by the loop to pause the job
	// unif draws while no linearization is in or in the fallback.
	unif sample.Sampler
	// est is the running second-moment estimate (estimate.go); g2 scratch.
	est EstimatorState
	g2  []float64

	// CheckpointEvery and OnCheckpoint, when both set, make Train call
	// OnCheckpoint with the state at the start of every CheckpointEvery-th
	// iteration; an error from it stops training.
	CheckpointEvery int
	OnCheckpoint    func(State) error
	// Linearizer, when set, replaces the CPU linearization of the rehashes
	// (an accelerator that keeps the data on its device); it is called
	// with the host parameters.
	Linearizer ntk.Linearizer
	// Stepper, when set, takes the SGD steps instead of the host stepper
	// (an accelerator that holds the parameters: m.Params is then the host
	// copy, brought up to date by Stepper.Sync before rehashes,
	// evaluations, checkpoints and the end of training).
	Stepper Stepper
	// Recorder, when set, observes the run.
	Recorder Recorder
	// par, when set (SetParallel), makes the run one rank of a
	// data-parallel run.
	par *Parallel
	// TrackEstimate keeps the running estimate of the second-moment ratio
	// (Eval.EstSecondMoment) from the steps' own minibatches; it is always
	// kept with Config.RehashAuto, which needs it. It costs a per-example
	// norm pass over each minibatch (about a tenth of a small model's step),
	// so it is off by default; it never changes the training.
	TrackEstimate bool
}

// NewTrainer prepares a run; m is trained in place.
func NewTrainer(be kernels.Backend, m *nn.MLP, train, test *data.Dataset, cfg Config) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if train.D != m.In || train.O != m.Out {
		return nil, fmt.Errorf("data has %d features and %d targets, model wants %d and %d", train.D, train.O, m.In, m.Out)
	}
	if test != nil && (test.D != m.In || test.O != m.Out) {
		return nil, fmt.Errorf("test data has %d features and %d targets, model wants %d and %d", test.D, test.O, m.In, m.Out)
	}
	if train.N < 1 {
		return nil, errors.New("empty training set")
	}
	// The loss travels with the model (nn.Config.Loss): every pass reads it.
	if lf := cfg.LossFunc(); lf != m.Loss {
		c := m.Config
		c.Loss = lf
		if err := c.Validate(); err != nil {
			return nil, err
		}
		m.Loss = lf
	}
	if m.Loss == nn.Xent {
		for _, d := range []*data.Dataset{train, test} {
			if err := classTargets(d); err != nil {
				return nil, err
			}
		}
	}
	if cfg.Workers == 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.RehashBatch == 0 {
		cfg.RehashBatch = 256
	}
	if cfg.EvalEvery == 0 {
		cfg.EvalEvery = max(1, cfg.Iters/20)
	}
	t := &Trainer{be: be, m: m, cfg: cfg, x: train.X, y: train.Y, n: train.N, test: test,
		pcg: rand.NewPCG(cfg.Seed, 0x747261696e)}
	t.rng = rand.New(t.pcg)
	t.classify = m.Out >= 2 && (m.Loss == nn.Xent || oneHotRows(train.Y, m.Out))
	if cfg.Sampler == SamplerLSH {
		h, err := ntk.NewHasher(m, cfg.Hash)
		if err != nil {
			return nil, err
		}
		t.hasher = h
	}
	t.passes = ntk.NewPasses(be, m, train.X, train.Y, train.N, cfg.RehashBatch, cfg.Workers)
	t.cpu = &ntk.CPU{Backend: be, Model: m, X: train.X, Y: train.Y, N: train.N,
		Options: ntk.RehashOptions{Batch: cfg.RehashBatch, Workers: cfg.Workers, MultiOutput: cfg.MultiOutputMode()}}
	samp, err := sample.New(cfg.Sampler, sample.Options{N: train.N, Eps: cfg.Eps, Prob: cfg.Prob, Backend: be, Model: m,
		Hasher: t.hasher, Scorer: t.passes, Presample: cfg.Presample, TauThreshold: cfg.TauThreshold, Lambda: cfg.DriftLambda,
		QueryEvery: cfg.QueryEvery})
	if err != nil {
		return nil, err
	}
	t.samp = samp
	t.unif, _ = sample.New(sample.Uniform, sample.Options{N: train.N})
	stepBE := be
	if cfg.Background && sample.NeedsLinearization(samp) {
		// Only a sampler that rehashes shares the cores with a
		// background job; the others keep every core for their steps.
		stepBE = t.setupBackground(be)
	}
	t.host = newHostStepper(stepBE, m, train, cfg)
	t.idx = make([]int, cfg.Batch)
	t.w = make([]float64, cfg.Batch)
	t.diagSize = min(cfg.DiagSubset, t.n)
	if t.diagSize > 0 {
		t.diagPerm = rand.New(rand.NewPCG(cfg.Seed^0xd1a9, 1)).Perm(t.n)
	}
	return t, nil
}

// LR returns the learning rate of iteration it (0-based).
func (t *Trainer) LR(it int) float64 { return t.cfg.LRAt(it) }

func (t *Trainer) rehashPeriod() int {
	if t.cfg.RehashEvery > 0 {
		return t.cfg.RehashEvery
	}
	return max(1, int(math.Round(t.cfg.RehashEpochs*float64(t.n)/float64(t.cfg.Batch))))
}

// rehash linearizes at the current host parameters and refits the sampler.
func (t *Trainer) rehash() error {
	lz := t.Linearizer
	if lz == nil {
		t.cpu.Options.Progress = nil
		if t.Recorder != nil {
			t.cpu.Options.Progress = t.Recorder.RecordRehash
		}
		lz = t.cpu
	}
	lin, err := lz.Linearize(t.m.Params, t.hasher, t.lin)
	if err != nil {
		return err
	}
	t.lin = lin
	return t.samp.Refit(lin)
}

// stepper returns the stepper of this run.
func (t *Trainer) stepper() Stepper {
	if t.Stepper != nil {
		return t.Stepper
	}
	return t.host
}

// Train runs cfg.Iters iterations. It stops early with an error when ctx is
// cancelled or training diverges.
func (t *Trainer) Train(ctx context.Context) (*Result, error) {
	res := &Result{Sampler: t.cfg.Sampler}
	wallStart := time.Now()
	t.trainStart = wallStart
	defer func() {
		t.wallBefore += time.Since(wallStart)
		t.trainStart = time.Time{}
	}()
	// The run's rows so far (a resumed run's earlier segments); an
	// evaluation at the iteration of the last row replaces it.
	res.Evals = append(res.Evals, t.evals...)
	start := t.iter
	tSample, tGrad, tRehash := &t.tSample, &t.tGrad, &t.tRehash
	rehashes := &t.rehashes
	period := t.rehashPeriod()
	rec := t.Recorder
	buckets, _ := t.samp.(sample.BucketCounter)
	ws := &t.wstat
	evaluate := func(it int) error {
		e := Eval{Iter: it, Epoch: float64(it*t.cfg.Batch) / float64(t.n), LR: t.LR(max(0, it-1)),
			SampleSeconds: tSample.Seconds(), GradSeconds: tGrad.Seconds(), RehashSeconds: tRehash.Seconds(), Rehashes: *rehashes}
		e.TrainSeconds = e.SampleSeconds + e.GradSeconds + e.RehashSeconds
		cls := t.classify
		mt := t.passes.Metrics(t.m.Params, t.x, t.y, t.n, cls)
		e.TrainLoss, e.TrainAccuracy, e.TrainXent = mt.Loss, mt.Accuracy, mt.CrossEntropy
		e.TestLoss = math.NaN()
		if cls {
			e.TestAccuracy, e.TestXent = math.NaN(), math.NaN()
		}
		if t.test != nil && t.test.N > 0 {
			mt = t.passes.Metrics(t.m.Params, t.test.X, t.test.Y, t.test.N, cls)
			e.TestLoss = mt.Loss
			if cls {
				e.TestAccuracy, e.TestXent = mt.Accuracy, mt.CrossEntropy
			}
		}
		var err error
		if e.SecondMoment, e.Ideal, e.KL, err = t.diagnostics(); err != nil {
			return fmt.Errorf("evaluation at iteration %d: %w", it, err)
		}
		e.ESS, e.MaxWeight = math.NaN(), math.NaN()
		switch {
		case t.par != nil:
			if e.ESS, e.MaxWeight, err = t.par.parallelESS(*ws); err != nil {
				return fmt.Errorf("evaluation at iteration %d: %w", it, err)
			}
		case ws.N > 0:
			e.ESS = ws.Sum * ws.Sum / ws.SumSq / float64(ws.N)
			e.MaxWeight = ws.Max
		}
		if buckets != nil {
			e.NonEmpty = buckets.NonEmpty()
		}
		e.ExtraSteps = t.host.extraSteps
		e.EstSecondMoment = t.est.ratio()
		e.BgRehashSeconds = t.tBgRehash.Seconds()
		e.Uniform = t.drawsUniform()
		*ws = WeightStats{}
		if k := len(res.Evals); k > 0 && res.Evals[k-1].Iter == it {
			res.Evals = res.Evals[:k-1]
		}
		res.Evals = append(res.Evals, e)
		t.evals = res.Evals
		if rec != nil {
			rec.RecordEval(e)
		}
		return nil
	}
	st := t.stepper()
	onHost := t.onHost(st)
	if t.par != nil && !onHost {
		return res, errors.New("a data-parallel run takes its steps with the host stepper (an accelerator's stepper has no all-reduce yet)")
	}
	if t.m.Loss != nn.MSE && (t.Linearizer != nil || !onHost) {
		return res, fmt.Errorf("the %s loss runs on the host only (the accelerator's linearization and steps are mse)", t.m.Loss)
	}
	if t.Linearizer != nil && t.m.Out > 1 && t.cfg.MultiOutputMode() != ntk.SumOfLogits {
		return res, fmt.Errorf("multi-output=%s runs on the host linearizer only (the accelerator's linearizes the sum of the outputs)", t.cfg.MultiOutputMode())
	}
	// A job still in flight when Train returns (Restore may have started
	// one) is waited for, so that no goroutine outlives it; it stays
	// pending in State.
	defer t.waitBackground()
	if sample.NeedsLinearization(t.samp) && t.cfg.Background && t.par != nil {
		return res, errors.New("background rehashes are not supported in a data-parallel run yet (the ranks would swap their samplers at different iterations)")
	}
	if sample.NeedsLinearization(t.samp) && t.cfg.Background && (t.Linearizer != nil || t.Stepper != nil) {
		return res, errors.New("background rehashes run on the host linearizer and stepper; they are not supported with an accelerator yet")
	}
	if err := st.Start(t.cfg, t.m.Params); err != nil {
		return res, err
	}
	// A stepper that holds the parameters elsewhere also projects the lsh
	// query there.
	if o, ok := t.samp.(sample.QueryOffloader); ok {
		qp, _ := st.(sample.QueryProjector)
		o.SetQueryProjector(qp)
	}
	sync := func() error { return st.Sync(t.m.Params) }
	needLin := sample.NeedsLinearization(t.samp)
	for it := t.iter; it < t.cfg.Iters; it++ {
		t.iter = it
		if err := ctx.Err(); err != nil {
			if serr := sync(); serr != nil {
				return res, serr
			}
			return res, &InterruptedError{Iter: it, Err: err}
		}
		if t.OnCheckpoint != nil && t.CheckpointEvery > 0 && it%t.CheckpointEvery == 0 && it > 0 && it != start {
			if err := sync(); err != nil {
				return res, err
			}
			if err := t.OnCheckpoint(t.State()); err != nil {
				return res, fmt.Errorf("checkpoint at iteration %d: %w", it, err)
			}
		}
		switch {
		case !needLin:
		case t.cfg.Background && !(t.cfg.BlockingFirst && t.lin == nil && t.pending == nil):
			if err := t.backgroundPoint(it, period, sync); err != nil {
				return res, err
			}
		case t.cfg.Background, // its blocking first rehash
			t.cfg.RehashAuto && (t.lin == nil || t.est.due(t.rehashCost(), t.estWindow())) || !t.cfg.RehashAuto && it%period == 0:
			if err := sync(); err != nil {
				return res, err
			}
			t0 := time.Now()
			if err := t.rehash(); err != nil {
				return res, fmt.Errorf("rehash at iteration %d: %w", it, err)
			}
			*tRehash += time.Since(t0)
			*rehashes++
			t.est.reset()
		}
		if it%t.cfg.EvalEvery == 0 {
			if err := sync(); err != nil {
				return res, err
			}
			// A background job gets no time from the evaluation, which
			// training seconds leave out.
			resume := t.pauseBackground()
			err := evaluate(it)
			resume()
			if err != nil {
				return res, err
			}
		}
		t0 := time.Now()
		if err := t.draw(t.rng, t.m.Params, t.idx, t.w); err != nil {
			if _, ok := errors.AsType[*sample.NonFiniteScoreError](err); ok {
				return res, t.diverged(it, t.LR(it), math.NaN(), 0, 0, err)
			}
			return res, fmt.Errorf("iteration %d: %w", it, err)
		}
		t1 := time.Now()
		*tSample += t1.Sub(t0)
		lr := t.LR(it)
		loss, finite, err := st.Step(t.idx, t.w, lr)
		if err != nil {
			return res, fmt.Errorf("step at iteration %d: %w", it, err)
		}
		*tGrad += time.Since(t1)
		t.updateEstimate()
		// The largest weights ignore NaN (math.Max would keep it).
		var itMax float64
		nNaN := 0
		for _, w := range t.w {
			if w > itMax {
				itMax = w
			}
			if math.IsNaN(w) {
				nNaN++
			}
			ws.Sum += w
			ws.SumSq += w * w
			ws.N++
		}
		ws.Max = max(ws.Max, itMax)
		t.maxWeightSeen = max(t.maxWeightSeen, itMax)
		if math.IsNaN(loss) || math.IsInf(loss, 0) || !finite {
			return res, t.diverged(it, lr, loss, itMax, nNaN, nil)
		}
		if rec != nil {
			rec.RecordIter(IterRecord{Iter: it, LR: lr, BatchLoss: loss, MaxWeight: itMax,
				SampleSeconds: tSample.Seconds(), GradSeconds: tGrad.Seconds(), RehashSeconds: tRehash.Seconds(), StepStats: t.stepStats(st),
				EstSecondMoment: t.est.ratio()})
		}
	}
	t.iter = t.cfg.Iters
	if err := sync(); err != nil {
		return res, err
	}
	if err := evaluate(t.cfg.Iters); err != nil {
		return res, err
	}
	res.Final = res.Evals[len(res.Evals)-1]
	res.Wall = t.wallBefore + time.Since(wallStart)
	return res, nil
}

// diverged makes the DivergedError of iteration it.
func (t *Trainer) diverged(it int, lr, loss, itMax float64, nNaN int, err error) *DivergedError {
	return &DivergedError{Iter: it, Sampler: t.cfg.Sampler, LR: lr, Eps: t.cfg.Eps, Loss: loss, MaxWeight: itMax,
		MaxWeightSeen: t.maxWeightSeen, NaNWeights: nNaN, Err: err}
}

// GradNorms sets out[k] to the exact per-sample gradient norm |∇_w ℓ_i| at
// the current parameters for i = ids[k] (every point when ids is nil).
func (t *Trainer) GradNorms(ids []int, out []float64) { t.passes.GradNorms(t.m.Params, ids, out) }

// Losses sets out[k] to ℓ_i at the current parameters.
func (t *Trainer) Losses(ids []int, out []float64) { t.passes.Losses(t.m.Params, ids, out) }

// Passes returns the per-example passes over the training set (the
// samplers' Scorer).
func (t *Trainer) Passes() *ntk.Passes { return t.passes }

// Sampler returns the run's sampler.
func (t *Trainer) Sampler() sample.Sampler { return t.samp }

// SamplerProbs sets out[k] to the probability that one draw of the
// sampler, at the current parameters, picks ids[k] (every point when ids is
// nil). It returns false for a sampler without per-draw probabilities
// (upper-bound) or when they cannot be computed.
func (t *Trainer) SamplerProbs(ids []int, out []float64) bool {
	if ids == nil {
		ids = make([]int, t.n)
		for i := range ids {
			ids[i] = i
		}
	}
	ok, err := t.activeSampler().Probs(t.m.Params, ids, out)
	return ok && err == nil
}

// drawsUniform says whether the draws are uniform now although the
// sampler is not: no linearization in yet (background warm start) or the
// automatic fallback (estimate.go).
func (t *Trainer) drawsUniform() bool {
	return sample.NeedsLinearization(t.samp) && (t.lin == nil || t.cfg.RehashAuto && t.est.Fallback)
}

// activeSampler is the sampler whose draws and probabilities are used now.
func (t *Trainer) activeSampler() sample.Sampler {
	if t.drawsUniform() {
		return t.unif
	}
	return t.samp
}

// draw draws one minibatch from the active sampler.
func (t *Trainer) draw(rng *rand.Rand, params []float32, idx []int, w []float64) error {
	return t.activeSampler().Draw(rng, params, idx, w)
}

// Rehash linearizes at the current parameters now and refits the sampler.
func (t *Trainer) Rehash() error { return t.rehash() }

// Loss returns the mean loss ℓ over a data set (½|f(x_i) − y_i|² for mse).
func (t *Trainer) Loss(x, y []float32, n int) float64 { return t.passes.MeanLoss(t.m.Params, x, y, n) }

// Model returns the model being trained.
func (t *Trainer) Model() *nn.MLP { return t.m }

// Linearization returns the last rehash's linearization (nil before one).
func (t *Trainer) Linearization() *ntk.Linearization { return t.lin }

// classTargets checks that every row of d's targets is a class
// distribution, as the cross-entropy needs (one-hot rows, or non-negative
// rows summing to 1); regression targets would give a meaningless, even
// negative, loss without any error. d may be nil.
func classTargets(d *data.Dataset) error {
	if d == nil {
		return nil
	}
	for i := 0; i < d.N; i++ {
		row := d.Y[i*d.O : (i+1)*d.O]
		sum := 0.0
		for _, v := range row {
			if !(v >= 0 && v <= 1) {
				sum = math.NaN()
				break
			}
			sum += float64(v)
		}
		if !(math.Abs(sum-1) <= 1e-4) {
			return fmt.Errorf("%s: row %d's targets %v are not class probabilities (one-hot, or non-negative summing to 1), which the xent loss needs: give integer or text class labels (--onehot, --loss xent with a label column)", d.Name, i, row)
		}
	}
	return nil
}

// oneHotRows says whether every row of y (rows of out values) is one-hot:
// a classification set's targets (--onehot), whose evaluations then carry
// accuracy and cross-entropy.
func oneHotRows(y []float32, out int) bool {
	for i := 0; i < len(y); i += out {
		ones := 0
		for _, v := range y[i : i+out] {
			switch v {
			case 1:
				ones++
			case 0:
			default:
				return false
			}
		}
		if ones != 1 {
			return false
		}
	}
	return len(y) > 0
}
