package sample

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/engine/ntk"
	"github.com/ntklsh/ntklsh/kernels"
)

// Sampler names.
const (
	Uniform    = "uniform"
	LSH        = "lsh"
	NTKStatic  = "ntk-static"
	NTKExact   = "ntk-exact"
	True       = "true"
	UpperBound = "upper-bound"
	Loss       = "loss"
	NTKDrift   = "ntk-drift"
)

// Probability formulas for the lsh sampler's importance weights.
const (
	ProbExact = "exact" // exact probability of the draw given tables and query: unbiased
	ProbLGD   = "lgd"   // Chen et al. 2019's estimate: biased
)

// Help describes every sampler, for the CLI.
var Help = map[string]string{
	Uniform:    "plain SGD: uniform draws, weight 1",
	LSH:        "the paper's method: LSH tables over the NTK-linearized gradient vectors, O(1) draws with exact probabilities",
	NTKStatic:  "exact gradient norms at the last rehash (w0), O(1) draws from a Walker alias table",
	NTKExact:   "p ∝ linearized gradient magnitude |a_i|·|f_lin(x_i,w) − y_i| over all N each step (O(N·P)); isolates LSH error from NTK error",
	True:       "p ∝ exact per-sample gradient norm at the current w over all N each step (O(N·P)): the paper's true adaptive sampling",
	UpperBound: "Katharopoulos & Fleuret 2018: presample k·B uniformly, resample B ∝ |∂ℓ/∂f| when the estimated variance reduction τ passes τ_th",
	Loss:       "p ∝ per-sample loss at the current w over all N each step (O(N·P) forward)",
	NTKDrift:   "drift bound: p ∝ |∇ℓ_i(w0)| + λ|a_i|²|w−w0|, two alias tables of the last rehash mixed by |w−w0| (O(P) per step, O(1) draws, exact probabilities); λ from --drift-lambda (negative: fitted at each rehash)",
}

// Names lists the samplers in a stable order.
func Names() []string {
	return []string{Uniform, LSH, NTKStatic, NTKExact, True, UpperBound, Loss, NTKDrift}
}

// Check reports an unknown sampler name, listing the known ones.
func Check(name string) error {
	if _, ok := Help[name]; !ok {
		names := Names()
		sort.Strings(names)
		return fmt.Errorf("unknown sampler %q (want one of %s)", name, strings.Join(names, ", "))
	}
	return nil
}

// Sampler draws minibatches of a data set of N points.
type Sampler interface {
	// Refit takes the linearization of a new rehash (see
	// NeedsLinearization): the lsh sampler rebuilds its tables from its
	// codes, ntk-static its alias table from its gradient norms at w0 and
	// ntk-exact linearizes around it from then on. Other samplers ignore it.
	Refit(lin *ntk.Linearization) error
	// Draw fills idx with the indices of one minibatch, drawn with rng at
	// parameters params, and w with their importance weights 1/(N·p_i)
	// (1 for uniform draws).
	Draw(rng *rand.Rand, params []float32, idx []int, w []float64) error
	// Probs sets out[k] to the probability that one draw at params picks
	// point ids[k]. It returns false for a sampler without per-draw
	// probabilities (upper-bound).
	Probs(params []float32, ids []int, out []float64) (bool, error)
}

// LinearizationUser is implemented by samplers that may need a
// linearization (Refit) before drawing.
type LinearizationUser interface {
	NeedsLinearization() bool
}

// NeedsLinearization says whether s must be refit with a linearization
// before it draws.
func NeedsLinearization(s Sampler) bool {
	u, ok := s.(LinearizationUser)
	return ok && u.NeedsLinearization()
}

// TauSampler is implemented by the upper-bound sampler, whose moving
// average of the variance reduction τ is state a checkpoint keeps.
type TauSampler interface {
	Tau() float64
	SetTau(float64)
}

// LambdaSampler is implemented by the ntk-drift sampler, whose mixture
// weight λ (fitted at each rehash in its automatic mode) is state a
// checkpoint keeps.
type LambdaSampler interface {
	Lambda() float64
	SetLambda(float64)
}

// QueryCacher is implemented by the lsh sampler: with Options.QueryEvery
// > 1 its draws come from a query made up to QueryEvery − 1 draws earlier,
// and that query (its codes, and the draws served from it) is state a
// checkpoint keeps.
type QueryCacher interface {
	// QueryCache returns the cached query's codes and the draws served
	// from it (nil when none is cached).
	QueryCache() (codes []uint32, served int)
	// SetQueryCache restores them (after Refit); it is an error when
	// they do not fit the tables.
	SetQueryCache(codes []uint32, served int) error
}

// BucketCounter is implemented by the lsh sampler: the number of non-empty
// (table, sign) buckets of its last query, for diagnostics.
type BucketCounter interface {
	NonEmpty() int
}

// QueryProjector computes the raw projections (K·L) of the lsh query for
// parameters held elsewhere (an accelerator's stepper): R·w for the paper
// query, R·(w − w0) for the re-centred one; Hasher.FinishQuery does the
// rest.
type QueryProjector interface {
	Query(h *ntk.Hasher, w0 []float32, proj []float32) error
}

// QueryOffloader is implemented by the lsh sampler: after
// SetQueryProjector(q), it takes each query's projections from q instead
// of from the params Draw and Probs are given.
type QueryOffloader interface {
	SetQueryProjector(q QueryProjector)
}

// Scorer computes per-example quantities over the data set at given
// parameters (ids nil: every point); ntk.Passes implements it.
type Scorer interface {
	// GradNorms: the exact per-sample gradient norms |∇_w ℓ_i|.
	GradNorms(params []float32, ids []int, out []float64)
	// Losses: ℓ_i (½|f_i − y_i|² for MSE, the cross-entropy for xent).
	Losses(params []float32, ids []int, out []float64)
	// Residuals: |∂ℓ_i/∂f| (|f_i − y_i| for MSE, |p_i − y_i| for xent).
	Residuals(params []float32, ids []int, out []float64)
	// Linearized: |a_i|·(s_lin,i(w) − Σ_o y_io), signed, from lin at
	// w = w0 + delta.
	Linearized(lin *ntk.Linearization, delta []float32, ids []int, out []float64)
}

// Options configures New.
type Options struct {
	N   int     // points in the data set
	Eps float64 // uniform mixing ε of the adaptive samplers
	// Prob is the lsh sampler's probability formula, ProbExact or ProbLGD.
	Prob string
	// Backend, Model (its shape) and Hasher make the lsh sampler's query.
	Backend kernels.Backend
	Model   *nn.MLP
	Hasher  *ntk.Hasher
	// Scorer is needed by true, loss, ntk-exact, upper-bound and lsh with
	// ProbLGD.
	Scorer Scorer
	// Presample is the upper-bound sampler's k (k·B points scored);
	// TauThreshold its τ_th.
	Presample    int
	TauThreshold float64
	// Lambda is the ntk-drift sampler's λ: 0 means DefaultDriftLambda,
	// negative fits it at each refit from the last period's drift.
	Lambda float64
	// QueryEvery is how many Draw calls the lsh sampler serves from one
	// query (0, 1: every call queries at its parameters).
	QueryEvery int
}

// New makes the sampler name.
func New(name string, o Options) (Sampler, error) {
	if err := Check(name); err != nil {
		return nil, err
	}
	if o.N < 1 {
		return nil, errors.New("sample: no points")
	}
	needScorer := name == True || name == Loss || name == NTKExact || name == UpperBound || name == LSH && o.Prob == ProbLGD
	if needScorer && o.Scorer == nil {
		return nil, fmt.Errorf("sample: the %s sampler needs a Scorer", name)
	}
	switch name {
	case Uniform:
		return uniformSampler{n: o.N}, nil
	case LSH:
		if o.Hasher == nil || o.Model == nil || o.Backend == nil {
			return nil, errors.New("sample: the lsh sampler needs a Hasher, a Model and a Backend")
		}
		return newLSH(o), nil
	case NTKStatic, NTKExact, True, Loss:
		return &aliasSampler{kind: name, n: o.N, eps: o.Eps, scorer: o.Scorer}, nil
	case NTKDrift:
		return newDrift(o), nil
	case UpperBound:
		return &upperBoundSampler{n: o.N, scorer: o.Scorer, presample: o.Presample, tauTh: o.TauThreshold}, nil
	}
	panic("sample: unknown sampler " + name)
}

type uniformSampler struct{ n int }

func (uniformSampler) Refit(*ntk.Linearization) error { return nil }
func (s uniformSampler) Draw(rng *rand.Rand, _ []float32, idx []int, w []float64) error {
	for k := range idx {
		idx[k] = rng.IntN(s.n)
		w[k] = 1
	}
	return nil
}
func (s uniformSampler) Probs(_ []float32, ids []int, out []float64) (bool, error) {
	for k := range ids {
		out[k] = 1 / float64(s.n)
	}
	return true, nil
}

// resize returns v with length n, reallocating only when its capacity is
// short (the contents are not kept then).
func resize[T any](v []T, n int) []T {
	if cap(v) < n {
		return make([]T, n)
	}
	return v[:n]
}
