package engine

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/engine/ntk"
	"github.com/ntklsh/ntklsh/engine/sample"
)

// Sampler names accepted by Config.Sampler (see package sample).
const (
	SamplerUniform    = sample.Uniform
	SamplerLSH        = sample.LSH
	SamplerNTKStatic  = sample.NTKStatic
	SamplerNTKExact   = sample.NTKExact
	SamplerTrue       = sample.True
	SamplerUpperBound = sample.UpperBound
	SamplerLoss       = sample.Loss
	SamplerNTKDrift   = sample.NTKDrift
)

// SamplerHelp describes every sampler, for the CLI.
var SamplerHelp = sample.Help

// SamplerNames lists the samplers in a stable order.
func SamplerNames() []string { return sample.Names() }

// Probability formulas for the lsh sampler's importance weights.
const (
	ProbExact = sample.ProbExact // exact probability of the draw given tables and query: unbiased
	ProbLGD   = sample.ProbLGD   // Chen et al. 2019's estimate: biased
)

// Config configures a training run.
type Config struct {
	Sampler  string
	Batch    int     // minibatch size B
	Iters    int     // SGD iterations
	LR       float64 // base learning rate
	Schedule string  // constant, linear, cosine
	Momentum float64 // heavy-ball momentum in [0, 1)
	// ClipNorm, when positive, clips the importance-weighted minibatch
	// gradient to Euclidean norm at most ClipNorm before the step (and
	// before momentum accumulates it); 0 turns clipping off. Only the host
	// stepper supports it.
	ClipNorm float64
	// StepSize is the step-size rule (gnstep.go): "" or fixed (the
	// default: the learning rate), gn (the damped Gauss–Newton step size
	// along the direction, capped by the learning rate) or newton (linear
	// model only: the weighted normal equations of the minibatch, or of
	// the whole set when Batch = N; the step is min(lr, 1) of the Newton
	// step). Only the host stepper supports gn and newton.
	StepSize string `json:",omitempty"`
	// RehashEvery rehashes every R iterations; when 0, every RehashEpochs
	// epochs (N/B iterations each).
	RehashEvery  int
	RehashEpochs float64
	// Background rehashes off the critical path (background.go): the
	// linearization of a rehash started at iteration t, on a snapshot of
	// the parameters at t, is switched in at t + RehashLag (the loop waits
	// when it is not ready then), so results do not depend on timing;
	// draws are uniform (weight 1) until the first one is in. RehashLag 0
	// derives the lag from the work model of DefaultRehashLag.
	// RehashWorkers goroutines build it (0: GOMAXPROCS−1, at least 1);
	// the steps' GEMMs then use the other cores.
	Background    bool `json:",omitempty"`
	RehashLag     int  `json:",omitempty"`
	RehashWorkers int  `json:",omitempty"`
	// BlockingFirst, with Background, makes the first rehash a blocking
	// one at iteration 0 instead of a uniform warm start: the later ones
	// stay in the background. (The warm start is uniform SGD for the first
	// lag iterations, which with momentum diverges at rates importance
	// sampling survives.)
	BlockingFirst bool `json:",omitempty"`
	// RehashAuto replaces the fixed period (RehashEvery, RehashEpochs) by
	// the cost model of estimate.go: refresh when the accumulated loss of
	// efficiency since the last refresh, from the running estimate of the
	// second-moment ratio, reaches RehashCost iterations (0: a work model
	// of the rehash's cost in steps), and draw uniformly until the next
	// refresh when the sampler is estimated no better than uniform.
	RehashAuto bool    `json:",omitempty"`
	RehashCost float64 `json:",omitempty"`
	Eps        float64 // uniform mixing ε of the adaptive samplers
	Prob       string  // exact or lgd (lsh only)
	Hash       ntk.HashConfig
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
	// DriftLambda is the ntk-drift sampler's λ (0: sample.DefaultDriftLambda;
	// negative: fitted at each rehash from the last period's drift).
	DriftLambda float64 `json:",omitempty"`
	// Warmup ramps the learning rate linearly from LR/Warmup to the
	// schedule's value over the first Warmup iterations (0: none) — the
	// usual guard of momentum SGD against its early instability.
	Warmup int `json:",omitempty"`
	// QueryEvery is how many minibatches the lsh sampler draws from one
	// query (0, 1: a query per minibatch). Its probabilities stay exact
	// for the query in use, so the weights stay unbiased; what a stale
	// query costs is variance, what it saves is the query's projections.
	QueryEvery int `json:",omitempty"`
	// EvalEvery computes full train/test loss and the sampler diagnostics
	// every so many iterations (0: about 20 times per run).
	EvalEvery int
	// DiagSubset is the number of points on which the diagnostics compute
	// true per-sample gradient norms: the half with the largest
	// |f_i − y_i|·√(1+|x_i|²) at each evaluation and a uniform sample of
	// the rest, weighted to estimate whole-set sums (diag.go).
	DiagSubset  int
	RehashBatch int
	Workers     int
	Seed        uint64
	// Loss is the training loss: "" or "mse" (½|f − y|², the default) or
	// "xent" (softmax cross-entropy over the outputs as classes, nn.Xent).
	// NewTrainer sets the model's nn.Config.Loss from it.
	Loss string `json:",omitempty"`
	// MultiOutput is what the NTK linearization of the lsh and ntk-exact
	// samplers linearizes for the mse loss with several outputs: "" or
	// "sum" (the pNTK sum of the outputs, the default) or "residual" (the
	// residual's direction at the rehash, ntk.ResidualDirection). It does
	// not apply to one output or to xent.
	MultiOutput string `json:",omitempty"`
}

// MultiOutputMode returns the parsed MultiOutput (SumOfLogits when it does
// not parse; Validate reports that).
func (c Config) MultiOutputMode() ntk.MultiOutput {
	m, _ := ntk.ParseMultiOutput(c.MultiOutput)
	return m
}

// LossFunc returns the parsed Loss (MSE when it does not parse; Validate
// reports that).
func (c Config) LossFunc() nn.Loss {
	l, _ := nn.ParseLoss(c.Loss)
	return l
}

// LRAt returns the learning rate of iteration it (0-based) under the
// schedule: a function of it/Iters, so changing Iters (extending a run)
// stretches the schedule.
func (c Config) LRAt(it int) float64 {
	frac := float64(it) / float64(c.Iters)
	lr := c.LR
	switch c.Schedule {
	case "linear":
		lr = c.LR * (1 - frac)
	case "cosine":
		lr = c.LR * 0.5 * (1 + math.Cos(math.Pi*frac))
	}
	if it < c.Warmup {
		// Linear warm-up: iteration it gets (it+1)/Warmup of the schedule.
		lr *= float64(it+1) / float64(c.Warmup)
	}
	return lr
}

// DefaultSampler is DefaultConfig's sampler.
const DefaultSampler = SamplerNTKDrift

// DefaultConfig returns the defaults of `ntklsh train`. Its sampler is
// ntk-drift: of the O(1)-per-draw samplers, the one the time-to-target
// benchmark found fastest wherever importance sampling reached the target
// (docs/RESULTS.md §0 and §0.8: ahead of ntk-static in iterations and
// seconds, ahead of every lsh configuration), for an O(P) norm per step.
func DefaultConfig() Config {
	return Config{Sampler: DefaultSampler, Batch: 32, Iters: 1500, LR: 0.02, Schedule: "constant", RehashEpochs: 1,
		Eps: 0.1, Prob: ProbExact, StepGrowth: 1, Presample: 3, TauThreshold: 1.5, DiagSubset: 1000, RehashBatch: 256,
		// The best lsh configuration of `ntklsh experiment lsh-ablation`
		// (docs/RESULTS.md): re-centred query, α = 0.01, K = 1, L = 64.
		Hash: ntk.HashConfig{K: 1, L: 64, Family: ntk.Structured, MIPS: true, Query: ntk.QueryRecentred, Alpha: 0.01, SignSymmetric: true, Seed: 7}}
}

// Validate checks every field and says the allowed range.
func (c Config) Validate() error {
	var errs []error
	bad := func(f string, a ...any) { errs = append(errs, fmt.Errorf(f, a...)) }
	if err := sample.Check(c.Sampler); err != nil {
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
	if !(c.ClipNorm >= 0 && c.ClipNorm < 1e9) {
		bad("clip-norm=%g must be in [0, 1e9) (0: off)", c.ClipNorm)
	}
	switch c.StepSize {
	case "", StepFixed, StepGN:
	case StepNewton:
		if c.Momentum != 0 || c.KeepStepping != 0 || c.ClipNorm != 0 {
			bad("step-size newton does not combine with momentum, keep-stepping or clip-norm")
		}
	default:
		bad("step-size=%q: want fixed, gn or newton", c.StepSize)
	}
	if c.RehashEvery < 0 {
		bad("rehash-every=%d must be ≥ 0", c.RehashEvery)
	}
	if c.RehashEvery == 0 && !c.RehashAuto && !(c.RehashEpochs > 0 && c.RehashEpochs < 1e9) {
		bad("rehash-epochs=%g must be > 0 when rehash-every is 0", c.RehashEpochs)
	}
	if c.RehashLag < 0 || c.RehashLag > 1<<40 {
		bad("rehash-lag=%d must be ≥ 0 (0: derived)", c.RehashLag)
	}
	if c.BlockingFirst && !c.Background {
		bad("blocking-first-rehash applies to --background-rehash only")
	}
	if c.RehashLag > 0 && !c.Background {
		bad("rehash-lag=%d needs background rehashes", c.RehashLag)
	}
	if c.RehashWorkers < 0 || c.RehashWorkers > 4096 {
		bad("rehash-workers=%d outside [0, 4096] (0: GOMAXPROCS−1)", c.RehashWorkers)
	}
	if !(c.RehashCost >= 0 && c.RehashCost < 1e12) {
		bad("rehash-cost=%g must be in [0, 1e12) iterations (0: derived)", c.RehashCost)
	}
	if c.RehashAuto && c.KeepStepping > 0 {
		bad("automatic rehashes need the minibatch's gradient norms, which keep-stepping overwrites: use keep-stepping=0")
	}
	if c.RehashAuto && c.StepSize != "" && c.StepSize != StepFixed {
		bad("automatic rehashes need the minibatch's gradient norms at the step's parameters, which step-size=%s does not keep: use the fixed step size", c.StepSize)
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
	if c.Warmup < 0 || c.Warmup > 1<<30 {
		bad("warmup=%d outside [0, %d]", c.Warmup, 1<<30)
	}
	if c.QueryEvery < 0 || c.QueryEvery > 1<<20 {
		bad("query-every=%d outside [0, %d]", c.QueryEvery, 1<<20)
	}
	if c.QueryEvery > 1 && (c.Sampler != SamplerLSH || c.Prob == ProbLGD) {
		bad("query-every=%d applies to the lsh sampler with prob=exact (LGD's estimate needs the query at the step's parameters)", c.QueryEvery)
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
	if math.IsNaN(c.DriftLambda) || math.IsInf(c.DriftLambda, 0) || c.DriftLambda > 1e6 {
		bad("drift-lambda=%g must be finite and ≤ 1e6 (0: default, negative: fitted)", c.DriftLambda)
	}
	if c.Presample < 1 || c.Presample > 1024 {
		bad("presample=%d outside [1, 1024]", c.Presample)
	}
	if !(c.TauThreshold >= 1) {
		bad("tau-th=%g must be ≥ 1", c.TauThreshold)
	}
	if l, err := nn.ParseLoss(c.Loss); err != nil {
		bad("loss=%q: want mse or xent", c.Loss)
	} else if l != nn.MSE && c.StepSize == StepNewton {
		bad("step-size newton solves the least-squares normal equations and supports the mse loss only, not %s (use step-size gn: its generalized Gauss–Newton model covers xent)", l)
	}
	if _, err := ntk.ParseMultiOutput(c.MultiOutput); err != nil {
		bad("multi-output=%q: want sum or residual", c.MultiOutput)
	}
	if c.EvalEvery < 0 || c.DiagSubset < 0 || c.RehashBatch < 0 || c.Workers < 0 {
		bad("eval-every, diag-subset, rehash-batch and workers must be ≥ 0")
	}
	return errors.Join(errs...)
}

// String describes the configuration briefly.
func (c Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sampler=%s batch=%d iters=%d lr=%g schedule=%s", c.Sampler, c.Batch, c.Iters, c.LR, c.Schedule)
	if c.Warmup > 0 {
		fmt.Fprintf(&b, " warmup=%d", c.Warmup)
	}
	if c.LossFunc() != nn.MSE {
		fmt.Fprintf(&b, " loss=%s", c.LossFunc())
	}
	if c.MultiOutputMode() != ntk.SumOfLogits {
		fmt.Fprintf(&b, " multi-output=%s", c.MultiOutputMode())
	}
	if c.ClipNorm > 0 {
		fmt.Fprintf(&b, " clip-norm=%g", c.ClipNorm)
	}
	if c.StepSize != "" && c.StepSize != StepFixed {
		fmt.Fprintf(&b, " step-size=%s", c.StepSize)
	}
	if c.Background {
		if c.RehashLag > 0 {
			fmt.Fprintf(&b, " background-rehash lag=%d", c.RehashLag)
		} else {
			b.WriteString(" background-rehash lag=derived")
		}
	}
	if c.RehashAuto {
		b.WriteString(" rehash=auto")
	}
	if c.Sampler == SamplerLSH {
		fmt.Fprintf(&b, " K=%d L=%d family=%s mips=%v query=%s", c.Hash.K, c.Hash.L, c.Hash.Family, c.Hash.MIPS, c.Hash.Query)
		if c.Hash.Query == ntk.QueryRecentred {
			fmt.Fprintf(&b, " alpha=%g", c.Hash.Alpha)
		}
		fmt.Fprintf(&b, " prob=%s", c.Prob)
		if c.QueryEvery > 1 {
			fmt.Fprintf(&b, " query-every=%d", c.QueryEvery)
		}
	}
	if c.Sampler == SamplerNTKDrift && c.DriftLambda != 0 {
		fmt.Fprintf(&b, " drift-lambda=%g", c.DriftLambda)
	}
	return b.String()
}
