package dist

import (
	"math"

	"github.com/ntklsh/ntklsh/engine"
	"github.com/ntklsh/ntklsh/kernels"
)

// Stepper is the engine.Stepper of one rank: it wraps the trainer's host
// stepper, whose gradient boundary (engine.Parallel) all-reduces through
// it. Its Step rescales the rank's importance weights to the global
// estimator's and hands the step to the host stepper, which computes the
// rank's share (1/B) Σ_b c_r w_b ∇ℓ_{i_b} of the minibatch gradient over
// its m_r draws, sums it over the ranks (P floats) with the weighted loss
// (one float64), and then clips, updates the momentum and steps — the host
// stepper's own code, so that one rank reproduces a single-process run
// bit for bit and every rank holds the same parameters after every step.
// Keep-stepping's trial losses and the gn step's curvature and loss after
// the step are summed over the ranks the same way (one float64 each).
type Stepper struct {
	inner engine.Stepper
	comm  Comm
	// frac is N_r/N: the host stepper divides by its own m_r draws, so
	// w·N_r/N/m_r = c_r·w/B.
	frac float64
	w    []float64
	grad []float32 // the last all-reduced gradient (the host stepper's)
	be   kernels.Backend
	sq   [1]float64
	// badStep is the first step (1-based) whose gradient share of this
	// rank was not finite before the all-reduce (0: none); Blame names
	// the rank by it when the run diverges.
	badStep int

	// AllreduceSeconds is the time spent in the gradient all-reduce.
	AllreduceSeconds float64
	Steps            int
	clock            func() float64
}

// NewStepper makes rank c.Rank()'s stepper, wrapping tr's host stepper,
// for layout l, and makes tr a rank of the data-parallel run
// (engine.Trainer.SetParallel); set tr.Stepper to it.
func NewStepper(c Comm, be kernels.Backend, tr *engine.Trainer, l Layout) *Stepper {
	r := c.Rank()
	s := &Stepper{inner: tr.HostStepper(), comm: c, be: be, frac: 1, clock: nowSeconds}
	if n, N := l.Train[r], l.N(); n != N {
		s.frac = float64(n) / float64(N)
	}
	tr.SetParallel(&engine.Parallel{Reducer: s, N: l.N(), Scale: l.Scale(r), Share: float64(l.Batch[r]) / float64(l.B())})
	return s
}

// Unwrap returns the host stepper (engine.Unwrapper).
func (s *Stepper) Unwrap() engine.Stepper { return s.inner }

// Start implements engine.Stepper.
func (s *Stepper) Start(cfg engine.Config, params []float32) error {
	return s.inner.Start(cfg, params)
}

// Sync implements engine.Stepper (the host stepper updates the parameters
// in place).
func (s *Stepper) Sync(params []float32) error { return s.inner.Sync(params) }

// Step implements engine.Stepper; it is collective.
func (s *Stepper) Step(idx []int, w []float64, lr float64) (loss float64, finite bool, err error) {
	if s.frac != 1 {
		s.w = append(s.w[:0], w...)
		for b := range s.w {
			s.w[b] *= s.frac
		}
		w = s.w
	}
	s.Steps++
	return s.inner.Step(idx, w, lr)
}

// AllreduceSum32 implements engine.Reducer: the gradient all-reduce, timed
// (with one rank the sum is the buffer itself, and nothing is called).
// Until a share was found non-finite, each share is checked first (one
// sum-of-squares pass, about 1/(6·m_r) of the step's arithmetic), so that
// a divergence can be traced to the rank whose data caused it.
func (s *Stepper) AllreduceSum32(buf []float32) error {
	s.grad = buf
	if s.comm.Size() == 1 {
		return nil
	}
	if s.badStep == 0 && len(buf) > 0 {
		s.be.RowSumSquares(1, len(buf), 1, buf, len(buf), s.sq[:])
		if math.IsNaN(s.sq[0]) || math.IsInf(s.sq[0], 0) {
			s.badStep = s.Steps
		}
	}
	t0 := s.clock()
	err := s.comm.AllreduceSum32(buf)
	s.AllreduceSeconds += s.clock() - t0
	return err
}

// AllreduceSum64 implements engine.Reducer.
func (s *Stepper) AllreduceSum64(buf []float64) error {
	if s.comm.Size() == 1 {
		return nil
	}
	return s.comm.AllreduceSum64(buf)
}

// AllreduceMax64 implements engine.Reducer.
func (s *Stepper) AllreduceMax64(buf []float64) error {
	if s.comm.Size() == 1 {
		return nil
	}
	return s.comm.AllreduceMax64(buf)
}
