package engine

import (
	"errors"
	"math"
)

// Reducer is the group of processes of a data-parallel run, as the engine
// needs it: sums and maxima of small or P-long vectors over every process
// (engine/dist.Comm is one). Every call is collective: every process makes
// it, in the same order, with a buffer of the same length, and every
// process gets the same bits back.
type Reducer interface {
	AllreduceSum32(buf []float32) error
	AllreduceSum64(buf []float64) error
	AllreduceMax64(buf []float64) error
}

// Parallel makes a Trainer one process ("rank") of a data-parallel run
// over a shard of the training rows (engine/dist sets it up). The host
// stepper then sums its gradient and its minibatch losses over the ranks
// at the gradient boundary — after the backward pass, before clipping,
// momentum and the update, which every rank then applies to the same
// bits — and the evaluations' sampling diagnostics are computed from sums
// over every rank's points. A Stepper wrapping the host stepper
// (HostStepper) must pass it importance weights already scaled to the
// global estimator's (engine/dist.Stepper multiplies by N_r/N).
type Parallel struct {
	Reducer
	// N is the number of training points of all ranks together.
	N int
	// Scale is c_r: this rank's sampler weights times Scale are the
	// global estimator's weights (1/B) Σ_b W_b ∇ℓ_{i_b}.
	Scale float64
	// Share is m_r/B, this rank's part of the global minibatch: one of the
	// B draws, picked at random, is point i of this rank's shard with
	// probability Share·p_r(i).
	Share float64
}

// SetParallel makes t one rank of a data-parallel run over a shard of the
// training rows (nil: a single process again): the host stepper's
// gradients and the evaluations' diagnostics are summed over the ranks
// (Parallel).
func (t *Trainer) SetParallel(p *Parallel) { t.par, t.host.par = p, p }

// HostStepper returns the trainer's host stepper, for a Stepper that wraps
// it (set Trainer.Stepper to the wrapper).
func (t *Trainer) HostStepper() Stepper { return t.host }

// Unwrapper is a Stepper that delegates its steps to another one (Unwrap).
type Unwrapper interface{ Unwrap() Stepper }

// onHost reports whether st takes its steps with the host stepper (itself
// or wrapped): the host stepper's per-step state (statistics, estimates,
// extra steps) is then the run's.
func (t *Trainer) onHost(st Stepper) bool {
	for st != nil {
		if st == Stepper(t.host) {
			return true
		}
		u, ok := st.(Unwrapper)
		if !ok {
			return false
		}
		st = u.Unwrap()
	}
	return false
}

// errParallelNewton: the newton step solves the minibatch's normal
// equations on one process.
var errParallelNewton = errors.New("step-size newton is not supported in a data-parallel run (its normal equations would have to be summed over the ranks): use --step-size gn or fixed")

// reduceGrad is the gradient boundary of a data-parallel run: it sums
// t.grad and the weighted minibatch loss over the ranks (nothing on one
// process).
func (t *hostStepper) reduceGrad(loss float64) (float64, error) {
	if t.par == nil {
		return loss, nil
	}
	if err := t.par.AllreduceSum32(t.grad); err != nil {
		return 0, err
	}
	return t.reduce1(loss)
}

// reduce1 sums one partial sum over the ranks (itself on one process): a
// minibatch loss of keep-stepping or of the gn step, the curvature dᵀGd.
func (t *hostStepper) reduce1(v float64) (float64, error) {
	if t.par == nil {
		return v, nil
	}
	t.scalar[0] = v
	if err := t.par.AllreduceSum64(t.scalar[:]); err != nil {
		return 0, err
	}
	return t.scalar[0], nil
}

// parallelESS turns this rank's sums of its weights into the global
// estimator's effective sample size and largest weight (collective): the
// global weights are Scale times the local ones.
func (p *Parallel) parallelESS(ws WeightStats) (ess, maxWeight float64, err error) {
	s := []float64{p.Scale * ws.Sum, p.Scale * p.Scale * ws.SumSq, float64(ws.N)}
	if err := p.AllreduceSum64(s); err != nil {
		return math.NaN(), math.NaN(), err
	}
	m := []float64{p.Scale * ws.Max}
	if ws.N == 0 {
		m[0] = math.Inf(-1)
	}
	if err := p.AllreduceMax64(m); err != nil {
		return math.NaN(), math.NaN(), err
	}
	if s[2] == 0 {
		return math.NaN(), math.NaN(), nil
	}
	return s[0] * s[0] / s[1] / s[2], m[0], nil
}
