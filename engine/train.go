package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"time"

	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/lsh"
	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/kernels"
)

// Probability formulas for the lsh sampler's importance weights.
const (
	ProbExact = "exact" // exact probability of the draw given tables and query: unbiased
	ProbLGD   = "lgd"   // Chen et al. 2019's estimate: biased
)

// Config configures a training run.
type Config struct {
	Sampler  string
	Batch    int     // minibatch size B
	Iters    int     // SGD iterations
	LR       float64 // base learning rate
	Schedule string  // constant, linear, cosine
	Momentum float64 // heavy-ball momentum in [0, 1)
	// RehashEvery rehashes every R iterations; when 0, every RehashEpochs
	// epochs (N/B iterations each).
	RehashEvery  int
	RehashEpochs float64
	Eps          float64 // uniform mixing ε of the adaptive samplers
	Prob         string  // exact or lgd (lsh only)
	Hash         HashConfig
	// KeepStepping enables the "more descent, less gradient" optimizer:
	// after each SGD step, keep stepping along the same direction while a
	// forward pass says the importance-weighted minibatch loss still falls,
	// at most KeepStepping extra steps, each StepGrowth times the last.
	KeepStepping int
	StepGrowth   float64
	// Presample is the upper-bound sampler's k (k·B points scored);
	// TauThreshold its τ_th.
	Presample    int
	TauThreshold float64
	// EvalEvery computes full train/test loss and the sampler diagnostics
	// every so many iterations (0: about 20 times per run).
	EvalEvery int
	// DiagSubset is the size of the fixed random subset on which the
	// diagnostics compute true per-sample gradient norms.
	DiagSubset  int
	RehashBatch int
	Workers     int
	Seed        uint64
}

// DefaultConfig returns the defaults of `ntklsh train`.
func DefaultConfig() Config {
	return Config{Sampler: SamplerLSH, Batch: 32, Iters: 1500, LR: 0.02, Schedule: "constant", RehashEpochs: 1,
		Eps: 0.1, Prob: ProbExact, StepGrowth: 1, Presample: 3, TauThreshold: 1.5, DiagSubset: 1000, RehashBatch: 256,
		// The best lsh configuration of `ntklsh experiment lsh-ablation`
		// (docs/RESULTS.md): re-centred query, α = 0.01, K = 1, L = 64.
		Hash: HashConfig{K: 1, L: 64, Family: Structured, MIPS: true, Query: QueryRecentred, Alpha: 0.01, SignSymmetric: true, Seed: 7}}
}

// Validate checks every field and says the allowed range.
func (c Config) Validate() error {
	var errs []error
	bad := func(f string, a ...any) { errs = append(errs, fmt.Errorf(f, a...)) }
	if err := checkSampler(c.Sampler); err != nil {
		errs = append(errs, err)
	}
	if c.Batch < 1 || c.Batch > 1<<20 {
		bad("batch=%d outside [1, 1048576]", c.Batch)
	}
	if c.Iters < 1 || c.Iters > 1<<40 {
		bad("iters=%d must be at least 1", c.Iters)
	}
	if !(c.LR > 0 && c.LR < 1e6) {
		bad("lr=%g must be in (0, 1e6)", c.LR)
	}
	switch c.Schedule {
	case "constant", "linear", "cosine":
	default:
		bad("schedule=%q: want constant, linear or cosine", c.Schedule)
	}
	if !(c.Momentum >= 0 && c.Momentum < 1) {
		bad("momentum=%g must be in [0, 1)", c.Momentum)
	}
	if c.RehashEvery < 0 {
		bad("rehash-every=%d must be ≥ 0", c.RehashEvery)
	}
	if c.RehashEvery == 0 && !(c.RehashEpochs > 0 && c.RehashEpochs < 1e9) {
		bad("rehash-epochs=%g must be > 0 when rehash-every is 0", c.RehashEpochs)
	}
	if !(c.Eps >= 0 && c.Eps <= 1) {
		bad("eps=%g outside [0, 1]", c.Eps)
	}
	if c.Prob != ProbExact && c.Prob != ProbLGD {
		bad("prob=%q: want exact or lgd", c.Prob)
	}
	if c.Prob == ProbLGD && c.Eps == 0 {
		bad("prob=lgd needs eps > 0 (its estimate can be 0)")
	}
	if c.Sampler == SamplerLSH {
		if err := c.Hash.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if c.KeepStepping < 0 || c.KeepStepping > 1000 {
		bad("keep-stepping=%d outside [0, 1000]", c.KeepStepping)
	}
	if c.KeepStepping > 0 && !(c.StepGrowth >= 1 && c.StepGrowth <= 10) {
		bad("step-growth=%g outside [1, 10]", c.StepGrowth)
	}
	if c.Presample < 1 || c.Presample > 1024 {
		bad("presample=%d outside [1, 1024]", c.Presample)
	}
	if !(c.TauThreshold >= 1) {
		bad("tau-th=%g must be ≥ 1", c.TauThreshold)
	}
	if c.EvalEvery < 0 || c.DiagSubset < 0 || c.RehashBatch < 0 || c.Workers < 0 {
		bad("eval-every, diag-subset, rehash-batch and workers must be ≥ 0")
	}
	return errors.Join(errs...)
}

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
	// divided by uniform's (below 1: the sampler lowers variance), on the
	// diagnostics subset; Ideal is the same for p ∝ |g_i| (the best
	// possible); KL is KL(p*‖p) with p* ∝ |g_i|.
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
}

// Result summarizes a run.
type Result struct {
	Sampler string
	Evals   []Eval
	Final   Eval
	Wall    time.Duration
}

// Trainer runs importance-sampled SGD on one model and data set.
type Trainer struct {
	be        kernels.Backend
	m         *nn.MLP
	cfg       Config
	x, y      []float32
	n         int
	test      *data.Dataset
	samp      sampler
	hasher    *Hasher
	tables    *lsh.Tables
	lin       *Linearization
	rng       *rand.Rand
	pcg       *rand.PCG
	grad, vel []float32
	delta     []float32
	workers   []*passWorker
	mb        *nn.Batch
	xb, yb    []float32
	dOut      []float32
	idx       []int
	w         []float64
	diag      []int

	lastNonEmpty  int
	extraSteps    int
	sumSq         [1]float64 // scratch of finite
	maxWeightSeen float64
	// progress of this run (restored by Restore)
	iter                    int
	tSample, tGrad, tRehash time.Duration
	rehashes                int

	// CheckpointEvery and OnCheckpoint, when both set, make Train call
	// OnCheckpoint with the state at the start of every CheckpointEvery-th
	// iteration; an error from it stops training.
	CheckpointEvery int
	OnCheckpoint    func(State) error
	// RehashFunc, when set, replaces Rehash (for an accelerator that keeps
	// the data on its device); it must fill lin as Rehash would and may
	// reuse the lin it is given.
	RehashFunc func(m *nn.MLP, h *Hasher, lin *Linearization) (*Linearization, error)
	// Device, when set, holds the parameters on an accelerator and runs the
	// per-iteration work there (see DeviceStepper); m.Params is then the
	// host copy, brought up to date before rehashes, evaluations,
	// checkpoints and the end of training.
	Device DeviceStepper
	// OnRehashProgress, when set, reports the progress of each rehash
	// (see RehashOptions.Progress); it is called from several goroutines.
	OnRehashProgress func(done, total int)
	// OnEval, when set, is called with every evaluation row.
	OnEval func(Eval)
	// OnIter, when set, is called after every iteration with the
	// minibatch's importance-weighted loss and cumulative times.
	OnIter func(IterRecord)
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
	t.samp = newSampler(cfg.Sampler)
	if cfg.Sampler == SamplerLSH {
		h, err := NewHasher(m, cfg.Hash)
		if err != nil {
			return nil, err
		}
		t.hasher = h
	}
	P := m.NumParams()
	t.grad = make([]float32, P)
	t.delta = make([]float32, P)
	if cfg.Momentum > 0 {
		t.vel = make([]float32, P)
	}
	t.mb = m.NewBatch(cfg.Batch)
	t.xb = make([]float32, cfg.Batch*m.In)
	t.yb = make([]float32, cfg.Batch*m.Out)
	t.dOut = make([]float32, cfg.Batch*m.Out)
	t.idx = make([]int, cfg.Batch)
	t.w = make([]float64, cfg.Batch)
	t.workers = make([]*passWorker, cfg.Workers)
	for i := range t.workers {
		t.workers[i] = newPassWorker(m, cfg.RehashBatch)
	}
	ns := min(cfg.DiagSubset, t.n)
	t.diag = rand.New(rand.NewPCG(cfg.Seed^0xd1a9, 1)).Perm(t.n)[:ns]
	return t, nil
}

// LR returns the learning rate of iteration it (0-based).
func (t *Trainer) LR(it int) float64 {
	frac := float64(it) / float64(t.cfg.Iters)
	switch t.cfg.Schedule {
	case "linear":
		return t.cfg.LR * (1 - frac)
	case "cosine":
		return t.cfg.LR * 0.5 * (1 + math.Cos(math.Pi*frac))
	}
	return t.cfg.LR
}

func (t *Trainer) rehashPeriod() int {
	if t.cfg.RehashEvery > 0 {
		return t.cfg.RehashEvery
	}
	return max(1, int(math.Round(t.cfg.RehashEpochs*float64(t.n)/float64(t.cfg.Batch))))
}

func (t *Trainer) rehash() error {
	if t.RehashFunc != nil {
		lin, err := t.RehashFunc(t.m, t.hasher, t.lin)
		if err != nil {
			return err
		}
		t.lin = lin
		return t.samp.afterRehash(t)
	}
	t.lin = Rehash(t.be, t.m, t.x, t.y, t.n, t.hasher, RehashOptions{Batch: t.cfg.RehashBatch, Workers: t.cfg.Workers, Progress: t.OnRehashProgress}, t.lin)
	return t.samp.afterRehash(t)
}

// Train runs cfg.Iters iterations. It stops early with an error when ctx is
// cancelled or training diverges.
func (t *Trainer) Train(ctx context.Context) (*Result, error) {
	res := &Result{Sampler: t.cfg.Sampler}
	wallStart := time.Now()
	start := t.iter
	tSample, tGrad, tRehash := &t.tSample, &t.tGrad, &t.tRehash
	rehashes := &t.rehashes
	period := t.rehashPeriod()
	var sumW, sumW2, maxW float64
	var nW int
	evaluate := func(it int) {
		e := Eval{Iter: it, Epoch: float64(it*t.cfg.Batch) / float64(t.n), LR: t.LR(max(0, it-1)),
			SampleSeconds: tSample.Seconds(), GradSeconds: tGrad.Seconds(), RehashSeconds: tRehash.Seconds(), Rehashes: *rehashes}
		e.TrainSeconds = e.SampleSeconds + e.GradSeconds + e.RehashSeconds
		e.TrainLoss = t.Loss(t.x, t.y, t.n)
		e.TestLoss = math.NaN()
		if t.test != nil && t.test.N > 0 {
			e.TestLoss = t.Loss(t.test.X, t.test.Y, t.test.N)
		}
		e.SecondMoment, e.Ideal, e.KL = t.diagnostics()
		e.ESS, e.MaxWeight = math.NaN(), math.NaN()
		if nW > 0 {
			e.ESS = sumW * sumW / sumW2 / float64(nW)
			e.MaxWeight = maxW
		}
		e.NonEmpty = t.lastNonEmpty
		e.ExtraSteps = t.extraSteps
		sumW, sumW2, maxW, nW = 0, 0, 0, 0
		res.Evals = append(res.Evals, e)
		if t.OnEval != nil {
			t.OnEval(e)
		}
	}
	if t.Device != nil {
		if err := t.checkDevice(); err != nil {
			return res, err
		}
		if err := t.Device.Upload(t.m.Params); err != nil {
			return res, fmt.Errorf("device: %w", err)
		}
	}
	sync := func() error {
		if t.Device == nil {
			return nil
		}
		if err := t.Device.Download(t.m.Params); err != nil {
			return fmt.Errorf("device: %w", err)
		}
		return nil
	}
	needLin := t.samp.needsLinearization()
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
		if needLin && it%period == 0 {
			if err := sync(); err != nil {
				return res, err
			}
			t0 := time.Now()
			if err := t.rehash(); err != nil {
				return res, fmt.Errorf("rehash at iteration %d: %w", it, err)
			}
			*tRehash += time.Since(t0)
			*rehashes++
		}
		if it%t.cfg.EvalEvery == 0 {
			if err := sync(); err != nil {
				return res, err
			}
			evaluate(it)
		}
		t0 := time.Now()
		if err := t.samp.draw(t, t.idx, t.w); err != nil {
			return res, fmt.Errorf("iteration %d: %w", it, err)
		}
		t1 := time.Now()
		*tSample += t1.Sub(t0)
		lr := t.LR(it)
		var loss, itMax float64
		if t.Device != nil {
			for _, w := range t.w {
				itMax = math.Max(itMax, w)
			}
			var err error
			if loss, err = t.Device.Step(t.idx, t.w, lr); err != nil {
				return res, fmt.Errorf("device step at iteration %d: %w", it, err)
			}
		} else {
			loss, itMax = t.step(lr)
		}
		*tGrad += time.Since(t1)
		for _, w := range t.w {
			sumW += w
			sumW2 += w * w
			nW++
		}
		maxW = math.Max(maxW, itMax)
		t.maxWeightSeen = math.Max(t.maxWeightSeen, itMax)
		// One pass over the weights finds a non-finite gradient too: the
		// step adds −lr·dir to every weight, and NaN or ±Inf in dir makes
		// the weight NaN or ±Inf even at lr = 0 (0·Inf is NaN). With a
		// device stepper the host weights are stale; its loss is checked.
		if math.IsNaN(loss) || math.IsInf(loss, 0) || t.Device == nil && !t.finite(t.m.Params) {
			return res, &DivergedError{Iter: it, Sampler: t.cfg.Sampler, LR: lr, Loss: loss, MaxWeight: itMax, MaxWeightSeen: t.maxWeightSeen}
		}
		if t.OnIter != nil {
			t.OnIter(IterRecord{Iter: it, LR: lr, BatchLoss: loss, MaxWeight: itMax,
				SampleSeconds: tSample.Seconds(), GradSeconds: tGrad.Seconds(), RehashSeconds: tRehash.Seconds()})
		}
	}
	t.iter = t.cfg.Iters
	if err := sync(); err != nil {
		return res, err
	}
	evaluate(t.cfg.Iters)
	res.Final = res.Evals[len(res.Evals)-1]
	res.Wall = time.Since(wallStart)
	return res, nil
}

// finite reports whether every element of v is finite, with one vector
// pass on the backend: Σ v_i² accumulated in float64 stays finite for any
// finite float32 values (each square is below 1.2e77), so it is finite
// exactly when no element is ±Inf or NaN.
func (t *Trainer) finite(v []float32) bool {
	if len(v) == 0 {
		return true
	}
	t.be.RowSumSquares(1, len(v), 1, v, len(v), t.sumSq[:])
	return !math.IsNaN(t.sumSq[0]) && !math.IsInf(t.sumSq[0], 0)
}

// step computes the minibatch gradient and takes one SGD step. It returns
// the weighted minibatch loss and the largest weight.
func (t *Trainer) step(lr float64) (loss, maxW float64) {
	loss, maxW = t.minibatchGrad()
	dir := t.grad
	if t.vel != nil {
		mu := float32(t.cfg.Momentum)
		for i, g := range t.grad {
			t.vel[i] = mu*t.vel[i] + g
		}
		dir = t.vel
	}
	t.be.Axpy(float32(-lr), dir, t.m.Params)
	if t.cfg.KeepStepping > 0 {
		t.extraSteps += t.keepStepping(lr, dir)
	}
	return loss, maxW
}

// keepStepping takes up to KeepStepping further steps along dir while the
// weighted minibatch loss falls, undoing the first step that does not
// lower it, and returns the number of steps kept.
func (t *Trainer) keepStepping(lr float64, dir []float32) int {
	prev := t.batchLoss()
	eta := lr
	for k := 0; k < t.cfg.KeepStepping; k++ {
		eta *= t.cfg.StepGrowth
		t.be.Axpy(float32(-eta), dir, t.m.Params)
		cur := t.batchLoss()
		if !(cur < prev) {
			t.be.Axpy(float32(eta), dir, t.m.Params)
			return k
		}
		prev = cur
	}
	return t.cfg.KeepStepping
}

// batchLoss is the importance-weighted loss of the current minibatch (in
// t.xb, t.yb, t.w) at the current parameters.
func (t *Trainer) batchLoss() float64 {
	B := len(t.idx)
	out := t.m.Out
	t.mb.Forward(t.be, t.m.Params, t.xb, B)
	f := t.mb.Output()
	var loss float64
	for b := 0; b < B; b++ {
		var l float64
		for o := 0; o < out; o++ {
			r := float64(f[b*out+o] - t.yb[b*out+o])
			l += 0.5 * r * r
		}
		loss += t.w[b] / float64(B) * l
	}
	return loss
}

// minibatchGrad sets t.grad to the importance-weighted minibatch gradient
// (1/B) Σ_b w_b ∇ℓ_{i_b} of the drawn t.idx, t.w, an unbiased estimate of
// the full gradient (1/N) Σ_i ∇ℓ_i when w_b = 1/(N p_{i_b}).
func (t *Trainer) minibatchGrad() (loss, maxW float64) {
	m := t.m
	B := len(t.idx)
	in, out := m.In, m.Out
	for b, i := range t.idx {
		copy(t.xb[b*in:(b+1)*in], t.x[i*in:(i+1)*in])
		copy(t.yb[b*out:(b+1)*out], t.y[i*out:(i+1)*out])
	}
	t.mb.Forward(t.be, m.Params, t.xb, B)
	f := t.mb.Output()
	for b := 0; b < B; b++ {
		s := t.w[b] / float64(B)
		maxW = math.Max(maxW, t.w[b])
		var l float64
		for o := 0; o < out; o++ {
			r := f[b*out+o] - t.yb[b*out+o]
			l += 0.5 * float64(r) * float64(r)
			t.dOut[b*out+o] = float32(s) * r
		}
		loss += s * l
	}
	t.mb.Backward(t.be, m.Params, t.dOut)
	clear(t.grad)
	t.mb.AccumulateGrad(t.be, t.grad)
	return loss, maxW
}

// diagnostics computes the second-moment ratio, its ideal value and
// KL(p*‖p) on the fixed subset.
func (t *Trainer) diagnostics() (ratio, ideal, kl float64) {
	n := len(t.diag)
	if n == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	g := make([]float64, n)
	t.perExampleSubset(passGradNorm, t.diag, g)
	p := make([]float64, n)
	if !t.samp.probs(t, t.diag, p) {
		ratio, kl = math.NaN(), math.NaN()
		p = nil
	}
	return SecondMomentRatio(g, p, t.n)
}

// SecondMomentRatio returns, for gradient norms g on a uniform subset of a
// data set of N points and the sampler's probabilities p of those points,
// Σ g²/p ÷ (N Σ g²) — the second moment of the one-draw importance-weighted
// gradient estimator relative to uniform's — its value for p ∝ g, and
// KL(p*‖p) with both renormalized on the subset. p may be nil.
func SecondMomentRatio(g, p []float64, N int) (ratio, ideal, kl float64) {
	var sg, sg2, sgp, sp float64
	for i, v := range g {
		sg += v
		sg2 += v * v
		if p != nil {
			sgp += v * v / p[i]
			sp += p[i]
		}
	}
	if sg2 == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	ideal = sg * sg / (float64(len(g)) * sg2)
	if p == nil {
		return math.NaN(), ideal, math.NaN()
	}
	ratio = sgp / (float64(N) * sg2)
	for i, v := range g {
		if v > 0 {
			ps := v / sg
			kl += ps * math.Log(ps/(p[i]/sp))
		}
	}
	return ratio, ideal, kl
}

// Loss returns the mean of ½|f(x_i) − y_i|² over a data set.
func (t *Trainer) Loss(x, y []float32, n int) float64 {
	parts := make([]float64, len(t.workers))
	m := t.m
	forBatches(n, t.cfg.RehashBatch, len(t.workers), func(wi, lo, hi int) {
		b := t.workers[wi].b
		b.Forward(t.be, m.Params, x[lo*m.In:hi*m.In], hi-lo)
		f := b.Output()
		var s float64
		for j := range f {
			r := float64(f[j] - y[lo*m.Out+j])
			s += r * r
		}
		parts[wi] += 0.5 * s
	})
	var s float64
	for _, v := range parts {
		s += v
	}
	return s / float64(n)
}

// Model returns the model being trained.
func (t *Trainer) Model() *nn.MLP { return t.m }

// Linearization returns the last rehash's linearization (nil before one).
func (t *Trainer) Linearization() *Linearization { return t.lin }

// String describes the configuration briefly.
func (c Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sampler=%s batch=%d iters=%d lr=%g schedule=%s", c.Sampler, c.Batch, c.Iters, c.LR, c.Schedule)
	if c.Sampler == SamplerLSH {
		fmt.Fprintf(&b, " K=%d L=%d family=%s mips=%v query=%s", c.Hash.K, c.Hash.L, c.Hash.Family, c.Hash.MIPS, c.Hash.Query)
		if c.Hash.Query == QueryRecentred {
			fmt.Fprintf(&b, " alpha=%g", c.Hash.Alpha)
		}
		fmt.Fprintf(&b, " prob=%s", c.Prob)
	}
	return b.String()
}
