package engine

import (
	"errors"
	"fmt"
	"math"

	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/kernels"
)

// Stepper takes the SGD steps of a run, the last stage of the pipeline
// (linearize → sample → step). The host stepper (the default) computes on
// the trainer's backend and supports momentum and keep-stepping; an
// accelerator's stepper (cuda.Stepper) holds the parameters on its device,
// and only the sampled indices, their weights and a few scalars cross per
// iteration. A stepper that holds the parameters elsewhere may also
// implement sample.QueryProjector: the lsh sampler's queries then come
// from it.
type Stepper interface {
	// Start prepares a run of cfg from the host parameters params (a
	// device stepper uploads them); it fails for settings the stepper does
	// not support.
	Start(cfg Config, params []float32) error
	// Step computes the importance-weighted minibatch gradient
	// (1/B) Σ_b w_b ∇ℓ_{idx_b} at the current parameters and steps along it
	// with learning rate lr. It returns the weighted minibatch loss
	// (1/B) Σ_b w_b ℓ_{idx_b} before the step, and finite = false when it
	// found a non-finite parameter after the step (a stepper that does not
	// look reports true; the loss is checked by the caller).
	Step(idx []int, w []float64, lr float64) (loss float64, finite bool, err error)
	// Sync copies the current parameters into the host copy params (a
	// no-op for the host stepper, which updates them in place).
	Sync(params []float32) error
}

// hostStepper is the Stepper on the host: plain SGD, heavy-ball momentum
// and the keep-stepping optimizer, updating m.Params in place.
type hostStepper struct {
	be        kernels.Backend
	m         *nn.MLP
	cfg       Config
	x, y      []float32
	grad, vel []float32
	mb        *nn.Batch
	xb, yb    []float32
	dOut      []float32
	idx       []int     // the minibatch of the current Step
	w         []float64 // its weights
	// extraSteps counts keep-stepping's extra steps (State.ExtraSteps).
	extraSteps int
	sumSq      [1]float64 // scratch of finite
	// The calculated step sizes (gnstep.go): jv holds the minibatch's
	// JVP, backup the parameters before a gn step, lambda the
	// Levenberg–Marquardt damping; newton the normal equations; stats the
	// last step's diagnostics.
	jv     []float32
	backup []float32
	lambda float64
	newton *newtonSolver
	stats  StepStats
	// softmax is the scratch of a loss other than MSE (Out values).
	softmax []float64
	// par, when set, makes the stepper one rank of a data-parallel run
	// (parallel.go): the gradient and the minibatch losses are summed
	// over the ranks; scalar is its scratch.
	par    *Parallel
	scalar [1]float64
}

func newHostStepper(be kernels.Backend, m *nn.MLP, train *data.Dataset, cfg Config) *hostStepper {
	P := m.NumParams()
	t := &hostStepper{be: be, m: m, cfg: cfg, x: train.X, y: train.Y, grad: make([]float32, P)}
	if cfg.Momentum > 0 {
		t.vel = make([]float32, P)
	}
	t.mb = m.NewBatch(cfg.Batch)
	t.xb = make([]float32, cfg.Batch*m.In)
	t.yb = make([]float32, cfg.Batch*m.Out)
	t.dOut = make([]float32, cfg.Batch*m.Out)
	t.softmax = make([]float64, m.Out)
	switch cfg.StepSize {
	case StepGN:
		t.jv = make([]float32, cfg.Batch*m.Out)
		t.backup = make([]float32, P)
	case StepNewton:
		t.newton = newNewtonSolver(m.In, m.Out, train.N, cfg.Batch)
	}
	return t
}

func (t *hostStepper) Start(cfg Config, _ []float32) error {
	if t.par != nil && cfg.StepSize == StepNewton {
		return errParallelNewton
	}
	return t.checkStepSize(cfg)
}
func (t *hostStepper) Sync([]float32) error { return nil }

// Step implements Stepper. One pass over the weights finds a non-finite
// gradient too: the step adds −lr·dir to every weight, and NaN or ±Inf in
// dir makes the weight NaN or ±Inf even at lr = 0 (0·Inf is NaN).
func (t *hostStepper) Step(idx []int, w []float64, lr float64) (loss float64, finite bool, err error) {
	t.idx, t.w = idx, w
	switch t.cfg.StepSize {
	case StepGN:
		loss, err = t.stepGN(lr)
	case StepNewton:
		loss, err = t.stepNewton(lr)
	default:
		loss, err = t.step(lr)
	}
	if err != nil {
		return loss, false, err
	}
	return loss, t.finite(t.m.Params), nil
}

// DeviceStepSupported reports the settings an accelerator's stepper does
// not support yet: momentum, gradient clipping, keep-stepping, the
// calculated step sizes (gn, newton), the samplers that score every point
// each step or presample (their work stays on the host) and lgd.
func DeviceStepSupported(cfg Config) error {
	switch {
	case cfg.StepSize != "" && cfg.StepSize != StepFixed:
		return fmt.Errorf("device training does not support --step-size %s yet", cfg.StepSize)
	case cfg.RehashAuto:
		return errors.New("device training does not support --rehash auto yet (its estimate needs the host step's per-example norms)")
	case cfg.LossFunc() != nn.MSE:
		return fmt.Errorf("device training supports the mse loss only, not %s", cfg.LossFunc())
	case cfg.Momentum != 0:
		return errors.New("device training does not support momentum yet")
	case cfg.ClipNorm != 0:
		return errors.New("device training does not support gradient clipping (clip-norm) yet")
	case cfg.KeepStepping != 0:
		return errors.New("device training does not support keep-stepping yet")
	case cfg.Sampler != SamplerUniform && cfg.Sampler != SamplerLSH && cfg.Sampler != SamplerNTKStatic:
		return fmt.Errorf("device training supports the uniform, lsh and ntk-static samplers, not %s", cfg.Sampler)
	case cfg.Prob == ProbLGD && cfg.Sampler == SamplerLSH:
		return errors.New("device training does not support --prob lgd")
	}
	return nil
}

// finite reports whether every element of v is finite, with one vector
// pass on the backend: Σ v_i² accumulated in float64 stays finite for any
// finite float32 values (each square is below 1.2e77), so it is finite
// exactly when no element is ±Inf or NaN.
func (t *hostStepper) finite(v []float32) bool {
	if len(v) == 0 {
		return true
	}
	t.be.RowSumSquares(1, len(v), 1, v, len(v), t.sumSq[:])
	return !math.IsNaN(t.sumSq[0]) && !math.IsInf(t.sumSq[0], 0)
}

// step computes the minibatch gradient and takes one SGD step. It returns
// the weighted minibatch loss.
func (t *hostStepper) step(lr float64) (loss float64, err error) {
	loss, _, dir, err := t.direction()
	if err != nil {
		return 0, err
	}
	t.be.Axpy(float32(-lr), dir, t.m.Params)
	if t.cfg.KeepStepping > 0 {
		prev, err := t.reduce1(t.batchLoss())
		if err != nil {
			return 0, err
		}
		k, err := t.keepSteppingFrom(prev, lr, dir)
		t.extraSteps += k
		return loss, err
	}
	return loss, nil
}

// direction computes the minibatch gradient (summed over the ranks of a
// data-parallel run), clips it and updates the momentum: it returns the
// weighted minibatch loss, the factor clipping scaled the gradient by and
// the direction the step goes against (the gradient or the velocity).
func (t *hostStepper) direction() (loss, scale float64, dir []float32, err error) {
	if loss, err = t.reduceGrad(t.minibatchGrad()); err != nil {
		return 0, 0, nil, err
	}
	scale = 1.0
	if t.cfg.ClipNorm > 0 {
		scale = t.clip(t.cfg.ClipNorm)
	}
	dir = t.grad
	if t.vel != nil {
		heavyBall(t.vel, float32(t.cfg.Momentum), t.grad)
		dir = t.vel
	}
	return loss, scale, dir, nil
}

// clip scales t.grad to Euclidean norm c when its norm exceeds c (the
// norm accumulated in float64). A non-finite norm leaves the gradient as
// it is, so that the divergence check still sees it. It returns the factor
// the gradient was scaled by (1 when it was not).
func (t *hostStepper) clip(c float64) float64 {
	t.be.RowSumSquares(1, len(t.grad), 1, t.grad, len(t.grad), t.sumSq[:])
	norm := math.Sqrt(t.sumSq[0])
	if !(norm > c) || math.IsInf(norm, 0) {
		return 1
	}
	s := float32(c / norm)
	scale(t.grad, s)
	return float64(s)
}

// heavyBall sets vel[i] = mu·vel[i] + g[i] (float32, a product then a sum),
// four elements per trip with the slices in locals, and flushes a velocity
// below 2⁻¹⁰⁰ in magnitude to zero. The flush: a parameter whose gradient
// is zero for good (the weights of a dead ReLU unit — 98 % of the hidden
// units in a Levitus run at lr 0.23) has a velocity that decays by mu per
// step through the subnormal range, and every subnormal operand costs a
// microcode assist: the steps of such a run took 3× as long (218 against 74
// µs). Below 2⁻¹⁰⁰, lr·vel is under half an ulp of any parameter larger
// than about 1e-23, so the parameters do not change.
func heavyBall(vel []float32, mu float32, g []float32) {
	vel = vel[:len(g)]
	i := 0
	for ; i+4 <= len(g); i += 4 {
		v, x := vel[i:i+4:i+4], g[i:i+4:i+4]
		v[0] = flushTiny(mu*v[0] + x[0])
		v[1] = flushTiny(mu*v[1] + x[1])
		v[2] = flushTiny(mu*v[2] + x[2])
		v[3] = flushTiny(mu*v[3] + x[3])
	}
	for ; i < len(g); i++ {
		vel[i] = flushTiny(mu*vel[i] + g[i])
	}
}

// velFlushBits is the bit pattern of heavyBall's flush threshold, 2⁻¹⁰⁰
// (float32's smallest normal is 2⁻¹²⁶).
const velFlushBits = (127 - 100) << 23

// flushTiny returns 0 for |v| < 2⁻¹⁰⁰ and v otherwise (NaN and ±Inf pass,
// for the divergence check). One comparison of the magnitude's bits, whose
// outcome stays the same for a parameter from step to step: two comparisons
// of v itself mispredict on every sign change (the update took 56 instead of
// 19 µs per step at P = 7 169).
func flushTiny(v float32) float32 {
	if math.Float32bits(v)&0x7fffffff < velFlushBits {
		return 0
	}
	return v
}

// scale sets x[i] *= s, four elements per trip (see heavyBall).
func scale(x []float32, s float32) {
	i := 0
	for ; i+4 <= len(x); i += 4 {
		v := x[i : i+4 : i+4]
		v[0] *= s
		v[1] *= s
		v[2] *= s
		v[3] *= s
	}
	for ; i < len(x); i++ {
		x[i] *= s
	}
}

// keepSteppingFrom takes up to KeepStepping further steps along dir while
// the weighted minibatch loss falls from prev, its value at the current
// parameters, undoing the first step that does not lower it, and returns
// the number of steps kept. In a data-parallel run each trial's loss is
// summed over the ranks (one scalar all-reduce per trial), so that every
// rank takes the same decisions.
func (t *hostStepper) keepSteppingFrom(prev, lr float64, dir []float32) (int, error) {
	eta := lr
	for k := 0; k < t.cfg.KeepStepping; k++ {
		eta *= t.cfg.StepGrowth
		t.be.Axpy(float32(-eta), dir, t.m.Params)
		cur, err := t.reduce1(t.batchLoss())
		if err != nil {
			return k, err
		}
		if !(cur < prev) {
			t.be.Axpy(float32(eta), dir, t.m.Params)
			return k, nil
		}
		prev = cur
	}
	return t.cfg.KeepStepping, nil
}

// batchLoss is the importance-weighted loss of the current minibatch (in
// t.xb, t.yb, t.w) at the current parameters.
func (t *hostStepper) batchLoss() float64 {
	t.mb.Forward(t.be, t.m.Params, t.xb, len(t.idx))
	return t.outputLoss()
}

// outputLoss is the importance-weighted loss of the minibatch's outputs
// as they stand in t.mb (after a forward pass).
func (t *hostStepper) outputLoss() float64 {
	B := len(t.idx)
	out := t.m.Out
	f := t.mb.Output()
	var loss float64
	for b := 0; b < B; b++ {
		loss += t.w[b] / float64(B) * t.m.Loss.Value(f[b*out:(b+1)*out], t.yb[b*out:(b+1)*out], t.softmax)
	}
	return loss
}

// minibatchGrad sets t.grad to the importance-weighted minibatch gradient
// (1/B) Σ_b w_b ∇ℓ_{i_b} of the drawn t.idx, t.w, an unbiased estimate of
// the full gradient (1/N) Σ_i ∇ℓ_i when w_b = 1/(N p_{i_b}).
func (t *hostStepper) minibatchGrad() (loss float64) {
	m := t.m
	B := len(t.idx)
	in, out := m.In, m.Out
	for b, i := range t.idx {
		copy(t.xb[b*in:(b+1)*in], t.x[i*in:(i+1)*in])
		copy(t.yb[b*out:(b+1)*out], t.y[i*out:(i+1)*out])
	}
	if t.cfg.StepSize == StepGN {
		t.mb.Forward(t.be, m.Params, t.xb, B) // ForwardStep will start from z_1
	} else {
		// The gradient, the per-example norms of --rehash auto and the
		// keep-stepping losses read H and the outputs only.
		t.mb.ForwardOutputs(t.be, m.Params, t.xb, B)
	}
	f := t.mb.Output()
	for b := 0; b < B; b++ {
		s := t.w[b] / float64(B)
		loss += s * m.Loss.Residual(f[b*out:(b+1)*out], t.yb[b*out:(b+1)*out], float32(s), t.dOut[b*out:(b+1)*out], t.softmax)
	}
	t.mb.Backward(t.be, m.Params, t.dOut)
	clear(t.grad)
	t.mb.AccumulateGrad(t.be, t.grad)
	return loss
}
