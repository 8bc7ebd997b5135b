package engine

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/ntklsh/ntklsh/engine/sample"
)

// State is everything a run needs to continue, bit for bit, as if it had
// not stopped: the parameters, the optimizer's velocity, the parameters of
// the last rehash (the tables are rebuilt from them, not stored), the
// random number generator, the iteration and the sampler's own state.
type State struct {
	Iter     int       `json:"iter"`
	Params   []float32 `json:"-"`
	Velocity []float32 `json:"-"` // nil without momentum
	W0       []float32 `json:"-"` // nil before the first rehash
	RNG      []byte    `json:"rng"`
	// Tau is the upper-bound sampler's moving average of τ.
	Tau        float64 `json:"tau"`
	ExtraSteps int     `json:"extra_steps"`
	// Lambda is the gn step size's Levenberg–Marquardt damping λ.
	Lambda   float64 `json:"lambda,omitempty"`
	Rehashes int     `json:"rehashes"`
	// Seconds spent so far, for reporting.
	SampleSeconds float64 `json:"sample_s"`
	GradSeconds   float64 `json:"grad_s"`
	RehashSeconds float64 `json:"rehash_s"`
	// WallSeconds is the wall time of training so far, evaluation
	// included; Evals the evaluation rows so far, so that a resumed run
	// reports the whole run, not its last segment.
	WallSeconds float64 `json:"wall_s"`
	Evals       []Eval  `json:"evals,omitempty"`
	// A background rehash in flight (Config.Background): started at
	// iteration PendingIter on the parameters PendingW0; Restore starts it
	// again, and it is switched in at PendingIter + Lag as it would have
	// been. Lag is the run's lag, checked against the resuming trainer's.
	Pending     bool      `json:"pending,omitempty"`
	PendingIter int       `json:"pending_iter,omitempty"`
	PendingW0   []float32 `json:"-"` // a tensor of the checkpoint
	// LegacyPendingW0 reads checkpoints written before PendingW0 became a
	// tensor (base64 of its little-endian bits in the JSON); never written.
	LegacyPendingW0 legacyVector `json:"pending_w0,omitempty"`
	Lag             int          `json:"lag,omitempty"`
	// Estimator is the running second-moment estimate and the automatic
	// rehash's bookkeeping (estimate.go).
	Estimator       *EstimatorState `json:"estimator,omitempty"`
	BgRehashSeconds float64         `json:"bg_rehash_s,omitempty"`
	// DriftLambda is the ntk-drift sampler's λ (fitted at each rehash by
	// --drift-lambda < 0; 0 for other samplers).
	DriftLambda *float64 `json:"drift_lambda,omitempty"`
	// Weights accumulates the importance weights since the last
	// evaluation (the next row's ESS and largest weight); MaxWeightSeen
	// is the largest weight of the run.
	Weights       *WeightStats `json:"weights,omitempty"`
	MaxWeightSeen float64      `json:"max_weight_seen,omitempty"`
	// QueryCodes is the lsh sampler's cached query (Config.QueryEvery >
	// 1) and QueryServed the draws it has served.
	QueryCodes  []uint32 `json:"query_codes,omitempty"`
	QueryServed int      `json:"query_served,omitempty"`
}

// WeightStats sums importance weights: their number, sum, sum of squares
// and maximum.
type WeightStats struct {
	N     int     `json:"n"`
	Sum   float64 `json:"sum"`
	SumSq float64 `json:"sum_sq"`
	Max   float64 `json:"max"`
}

// InterruptedError is returned by Train when its context is cancelled; the
// trainer's State is then that of the start of iteration Iter.
type InterruptedError struct {
	Iter int
	Err  error
}

func (e *InterruptedError) Error() string {
	return fmt.Sprintf("interrupted at iteration %d: %v", e.Iter, e.Err)
}

func (e *InterruptedError) Unwrap() error { return e.Err }

// Iter is the next iteration Train will run.
func (t *Trainer) Iter() int { return t.iter }

// State captures the trainer's state at the start of iteration Iter().
// The slices are copies.
func (t *Trainer) State() State {
	rng, err := t.pcg.MarshalBinary()
	if err != nil {
		panic("engine: PCG state: " + err.Error())
	}
	s := State{Iter: t.iter, Params: append([]float32(nil), t.m.Params...), RNG: rng, ExtraSteps: t.host.extraSteps, Lambda: t.host.lambda,
		Rehashes: t.rehashes, SampleSeconds: t.tSample.Seconds(), GradSeconds: t.tGrad.Seconds(), RehashSeconds: t.tRehash.Seconds(),
		Evals: t.evalsBefore(t.iter)}
	wall := t.wallBefore
	if !t.trainStart.IsZero() {
		wall += time.Since(t.trainStart)
	}
	s.WallSeconds = wall.Seconds()
	if t.host.vel != nil {
		s.Velocity = append([]float32(nil), t.host.vel...)
	}
	if t.lin != nil {
		s.W0 = append([]float32(nil), t.lin.W0...)
	}
	if ts, ok := t.samp.(sample.TauSampler); ok {
		s.Tau = ts.Tau()
	}
	if j := t.pending; j != nil {
		s.Pending, s.PendingIter, s.PendingW0 = true, j.start, append([]float32(nil), j.params...)
	}
	s.Lag = t.lag
	if t.est != (EstimatorState{}) {
		e := t.est
		s.Estimator = &e
	}
	s.BgRehashSeconds = t.tBgRehash.Seconds()
	if ls, ok := t.samp.(sample.LambdaSampler); ok {
		l := ls.Lambda()
		s.DriftLambda = &l
	}
	if t.wstat != (WeightStats{}) {
		w := t.wstat
		s.Weights = &w
	}
	s.MaxWeightSeen = t.maxWeightSeen
	if qc, ok := t.samp.(sample.QueryCacher); ok {
		s.QueryCodes, s.QueryServed = qc.QueryCache()
	}
	return s
}

// evalsBefore returns a copy of the evaluation rows of iterations before
// it (a state at the start of iteration it has not evaluated it yet), or
// all of them when it is the run's end.
func (t *Trainer) evalsBefore(it int) []Eval {
	var out []Eval
	for _, e := range t.evals {
		if e.Iter < it || it >= t.cfg.Iters {
			out = append(out, e)
		}
	}
	return out
}

// Restore puts the trainer in state s, which must come from a trainer with
// the same model shape, data and configuration. When the sampler needs a
// linearization and iteration s.Iter would not rehash anyway, the tables are
// rebuilt at s.W0, exactly as the interrupted run had them — also for a
// finished run (s.Iter = Iters), whose final evaluation reads them.
//
// A state may come from a run of fewer iterations (Iters larger than the
// run that wrote it): the run is extended, and the learning-rate schedule,
// a function of iteration/Iters, is stretched over the new length from
// s.Iter on.
func (t *Trainer) Restore(s State) (err error) {
	P := t.m.NumParams()
	if len(s.Params) != P {
		return fmt.Errorf("state has %d parameters, the model has %d", len(s.Params), P)
	}
	if s.Iter < 0 || s.Iter > t.cfg.Iters {
		return fmt.Errorf("state is at iteration %d, outside this run's [0, %d]", s.Iter, t.cfg.Iters)
	}
	vel := t.host.vel
	if (vel != nil) != (s.Velocity != nil) || s.Velocity != nil && len(s.Velocity) != P {
		return errors.New("state's optimizer velocity does not match this run's momentum setting")
	}
	if s.W0 != nil && len(s.W0) != P {
		return fmt.Errorf("state's rehash point has %d parameters, the model has %d", len(s.W0), P)
	}
	if s.Lag != t.lag {
		if !t.cfg.Background || t.cfg.RehashLag != 0 || s.Lag <= 0 {
			return fmt.Errorf("state has background rehash lag %d, this run %d", s.Lag, t.lag)
		}
		// The lag was derived from the core count of the machine that
		// started the run: keep it, so that the continuation switches
		// its rehashes in where the run would have.
		t.lag = s.Lag
	}
	if s.Pending && s.PendingW0 == nil {
		s.PendingW0 = s.LegacyPendingW0
	}
	if s.Pending && (len(s.PendingW0) != P || s.PendingIter < 0 || s.PendingIter > s.Iter || s.PendingIter+t.lag < s.Iter) {
		return errors.New("state's background rehash in flight does not fit this run")
	}
	if l := s.DriftLambda; l != nil && !(*l >= 0 && *l <= math.MaxFloat64) {
		return fmt.Errorf("state's ntk-drift λ %v is not a finite number ≥ 0", *l)
	}
	if w := s.Weights; w != nil && (w.N < 0 || !(w.SumSq >= 0) || math.IsInf(w.SumSq, 0) || math.IsNaN(w.Sum) || math.IsNaN(w.Max)) {
		return errors.New("state's importance-weight sums are not valid")
	}
	if err := t.pcg.UnmarshalBinary(s.RNG); err != nil {
		return fmt.Errorf("state's random number generator: %w", err)
	}
	copy(t.m.Params, s.Params)
	if vel != nil {
		copy(vel, s.Velocity)
	}
	t.iter = s.Iter
	t.host.extraSteps, t.rehashes, t.host.lambda = s.ExtraSteps, s.Rehashes, s.Lambda
	t.tSample = time.Duration(s.SampleSeconds * float64(time.Second))
	t.tGrad = time.Duration(s.GradSeconds * float64(time.Second))
	t.tRehash = time.Duration(s.RehashSeconds * float64(time.Second))
	t.wallBefore = time.Duration(s.WallSeconds * float64(time.Second))
	t.evals = append([]Eval(nil), s.Evals...)
	if ts, ok := t.samp.(sample.TauSampler); ok {
		ts.SetTau(s.Tau)
	}
	t.est = EstimatorState{}
	if s.Estimator != nil {
		t.est = *s.Estimator
	}
	t.tBgRehash = time.Duration(s.BgRehashSeconds * float64(time.Second))
	t.wstat = WeightStats{}
	if s.Weights != nil {
		t.wstat = *s.Weights
	}
	t.maxWeightSeen = s.MaxWeightSeen
	// The sampler's λ is set after its tables are rebuilt (a rebuild
	// refits them).
	if ls, ok := t.samp.(sample.LambdaSampler); ok && s.DriftLambda != nil {
		defer ls.SetLambda(*s.DriftLambda)
	}
	if qc, ok := t.samp.(sample.QueryCacher); ok && s.QueryCodes != nil {
		defer func() {
			if err == nil {
				if e := qc.SetQueryCache(s.QueryCodes, s.QueryServed); e != nil {
					err = fmt.Errorf("state's cached query: %w", e)
				}
			}
		}()
	}
	t.dropBackground()
	if t.cfg.Background || t.cfg.RehashAuto {
		// Rehashes are not at multiples of a period: rebuild whatever
		// linearization the state had, and restart a job in flight.
		return t.restoreLinearizations(s)
	}
	// ntk-drift fitting λ at each rehash compares the new tables with the
	// last period's: a state at a rehash boundary still needs the tables
	// at w0 for the rehash its first iteration makes.
	fitsLambda := t.cfg.Sampler == SamplerNTKDrift && t.cfg.DriftLambda < 0 && s.W0 != nil
	if sample.NeedsLinearization(t.samp) && (s.Iter%t.rehashPeriod() != 0 || fitsLambda) {
		if s.W0 == nil {
			return errors.New("state lacks the rehash point its sampler needs")
		}
		// Rebuild the linearization and tables at w0.
		copy(t.m.Params, s.W0)
		err := t.rehash()
		copy(t.m.Params, s.Params)
		if err != nil {
			return fmt.Errorf("rebuilding the tables at the rehash point: %w", err)
		}
	}
	return nil
}

// restoreLinearizations rebuilds, for background or automatic rehashes,
// the linearization at s.W0 (none: the warm start's uniform draws) and
// restarts the background job in flight.
func (t *Trainer) restoreLinearizations(s State) error {
	if !sample.NeedsLinearization(t.samp) {
		return nil
	}
	t.lin = nil
	if s.W0 != nil {
		copy(t.m.Params, s.W0)
		err := t.rehash()
		copy(t.m.Params, s.Params)
		if err != nil {
			return fmt.Errorf("rebuilding the tables at the rehash point: %w", err)
		}
	}
	if s.Pending {
		t.startBackground(s.PendingIter, s.PendingW0)
	}
	return nil
}

// DivergedError reports NaN or Inf in the loss, the gradient or the
// weights, or (Err) a sampler that found the model diverged on a point it
// scored before the step.
type DivergedError struct {
	Iter    int
	Sampler string
	LR      float64
	Eps     float64 // the run's ε (used by the advice for the samplers that mix it in)
	Loss    float64 // the minibatch's weighted loss; NaN when Err stopped the run before the step
	// MaxWeight and MaxWeightSeen are the largest importance weights of
	// the failing minibatch and of the run, NaN weights ignored (0 when
	// there are none); NaNWeights counts the failing minibatch's NaN
	// weights.
	MaxWeight     float64
	MaxWeightSeen float64
	NaNWeights    int
	// Err is the sampler's report (a *sample.NonFiniteScoreError) when it
	// found the divergence.
	Err error
}

func (e *DivergedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "training diverged at iteration %d (sampler %s, lr %g): ", e.Iter, e.Sampler, e.LR)
	if e.Err != nil {
		fmt.Fprintf(&b, "%v; largest importance weight %.4g in the run", e.Err, e.MaxWeightSeen)
	} else {
		fmt.Fprintf(&b, "minibatch loss %v; largest importance weight %.4g in that minibatch", e.Loss, e.MaxWeight)
		if e.NaNWeights > 0 {
			fmt.Fprintf(&b, " (%d of its weights NaN)", e.NaNWeights)
		}
		fmt.Fprintf(&b, ", %.4g in the run", e.MaxWeightSeen)
	}
	b.WriteString("; ")
	b.WriteString(e.advice())
	return b.String()
}

func (e *DivergedError) Unwrap() error { return e.Err }

// advice says what to change, for the sampler's kind of weights.
func (e *DivergedError) advice() string {
	switch e.Sampler {
	case sample.Uniform:
		return "lower --lr (uniform sampling's weights are all 1)"
	case sample.UpperBound:
		return "lower --lr, or bound the weights by raising --tau-th (importance sampling starts later) or lowering --presample (the upper-bound sampler has no ε)"
	}
	return fmt.Sprintf("lower --lr, or raise --eps (now %g) to bound the weights by 1/ε", e.Eps)
}

// legacyVector decodes a parameter vector that older checkpoints stored in
// their JSON as the base64 of its little-endian IEEE bits.
type legacyVector []float32

func (v *legacyVector) UnmarshalJSON(data []byte) error {
	var str string
	if err := json.Unmarshal(data, &str); err != nil {
		return err
	}
	b, err := base64.StdEncoding.DecodeString(str)
	if err != nil {
		return err
	}
	if len(b)%4 != 0 {
		return errors.New("parameter vector: length not a multiple of 4 bytes")
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	*v = out
	return nil
}
