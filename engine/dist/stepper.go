package dist

import (
	"errors"
	"fmt"
	"math"

	"github.com/ntklsh/ntklsh/engine"
	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/kernels"
)

// Stepper is the engine.Stepper of one rank: it computes the rank's share
// (1/B) Σ_b c_r w_b ∇ℓ_{i_b} of the importance-weighted minibatch gradient
// over its m_r local draws, all-reduces it (sum: P floats) and the
// weighted loss (one float64), and steps exactly as the host stepper does
// (SGD, heavy-ball momentum, clipping) — the same arithmetic, in the same
// order, so that one rank reproduces a single-process run bit for bit.
// Every rank holds the same parameters after every step. Keep-stepping is
// not supported (its line search would need a collective per trial), nor
// are the calculated step sizes (gn, newton) and losses other than MSE:
// Start refuses them.
type Stepper struct {
	comm   Comm
	be     kernels.Backend
	m      *nn.MLP
	x, y   []float32
	scale  float64 // c_r
	global int     // B

	cfg       engine.Config
	grad, vel []float32
	mb        *nn.Batch
	xb, yb    []float32
	dOut      []float32
	lossBuf   [1]float64
	sumSq     [1]float64

	// AllreduceSeconds is the time spent in the gradient all-reduce.
	AllreduceSeconds float64
	Steps            int
	clock            func() float64
	pendingVel       []float32 // a restored velocity, taken by Start
}

// NewStepper makes rank c.Rank()'s stepper over its shard, for layout l.
func NewStepper(c Comm, be kernels.Backend, m *nn.MLP, shard *data.Dataset, l Layout) *Stepper {
	return &Stepper{comm: c, be: be, m: m, x: shard.X, y: shard.Y, scale: l.Scale(c.Rank()), global: l.B(), clock: nowSeconds}
}

// Start implements engine.Stepper.
func (s *Stepper) Start(cfg engine.Config, params []float32) error {
	if cfg.KeepStepping != 0 {
		return errors.New("distributed training does not support keep-stepping")
	}
	if cfg.StepSize != "" && cfg.StepSize != engine.StepFixed {
		return fmt.Errorf("distributed training does not support step-size %s (its curvature and actual decrease would need collectives per step): use the fixed step size", cfg.StepSize)
	}
	if l := cfg.LossFunc(); l != nn.MSE {
		return fmt.Errorf("distributed training supports the mse loss only, not %s", l)
	}
	s.cfg = cfg
	P := s.m.NumParams()
	s.grad = make([]float32, P)
	s.vel = nil
	if cfg.Momentum > 0 {
		s.vel = make([]float32, P)
		if len(s.pendingVel) == P {
			copy(s.vel, s.pendingVel)
		}
	}
	s.pendingVel = nil
	s.mb = s.m.NewBatch(cfg.Batch)
	s.xb = make([]float32, cfg.Batch*s.m.In)
	s.yb = make([]float32, cfg.Batch*s.m.Out)
	s.dOut = make([]float32, cfg.Batch*s.m.Out)
	return nil
}

// Sync implements engine.Stepper (the parameters are updated in place).
func (s *Stepper) Sync([]float32) error { return nil }

// Velocity is the momentum buffer (nil without momentum).
func (s *Stepper) Velocity() []float32 { return s.vel }

// Step implements engine.Stepper; it is collective.
func (s *Stepper) Step(idx []int, w []float64, lr float64) (loss float64, finite bool, err error) {
	m := s.m
	B := len(idx)
	in, out := m.In, m.Out
	for b, i := range idx {
		copy(s.xb[b*in:(b+1)*in], s.x[i*in:(i+1)*in])
		copy(s.yb[b*out:(b+1)*out], s.y[i*out:(i+1)*out])
	}
	s.mb.Forward(s.be, m.Params, s.xb, B)
	f := s.mb.Output()
	for b := 0; b < B; b++ {
		sc := w[b] * s.scale / float64(s.global)
		var l float64
		for o := 0; o < out; o++ {
			r := f[b*out+o] - s.yb[b*out+o]
			l += 0.5 * float64(r) * float64(r)
			s.dOut[b*out+o] = float32(sc) * r
		}
		loss += sc * l
	}
	s.mb.Backward(s.be, m.Params, s.dOut)
	clear(s.grad)
	s.mb.AccumulateGrad(s.be, s.grad)
	t0 := s.clock()
	if s.comm.Size() > 1 {
		if err := s.comm.AllreduceSum32(s.grad); err != nil {
			return 0, false, err
		}
		s.lossBuf[0] = loss
		if err := s.comm.AllreduceSum64(s.lossBuf[:]); err != nil {
			return 0, false, err
		}
		loss = s.lossBuf[0]
	}
	s.AllreduceSeconds += s.clock() - t0
	s.Steps++
	if s.cfg.ClipNorm > 0 {
		s.clip(s.cfg.ClipNorm)
	}
	dir := s.grad
	if s.vel != nil {
		mu := float32(s.cfg.Momentum)
		for i, g := range s.grad {
			s.vel[i] = mu*s.vel[i] + g
		}
		dir = s.vel
	}
	s.be.Axpy(float32(-lr), dir, m.Params)
	return loss, s.finite(m.Params), nil
}

// clip is the host stepper's: scale to norm c when above it.
func (s *Stepper) clip(c float64) {
	s.be.RowSumSquares(1, len(s.grad), 1, s.grad, len(s.grad), s.sumSq[:])
	norm := math.Sqrt(s.sumSq[0])
	if !(norm > c) || math.IsInf(norm, 0) {
		return
	}
	f := float32(c / norm)
	for i := range s.grad {
		s.grad[i] *= f
	}
}

func (s *Stepper) finite(v []float32) bool {
	if len(v) == 0 {
		return true
	}
	s.be.RowSumSquares(1, len(v), 1, v, len(v), s.sumSq[:])
	return !math.IsNaN(s.sumSq[0]) && !math.IsInf(s.sumSq[0], 0)
}
