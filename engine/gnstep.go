package engine

import (
	"errors"
	"fmt"
	"math"

	"github.com/ntklsh/ntklsh/engine/nn"
	"gonum.org/v1/gonum/mat"
)

// Step-size rules accepted by Config.StepSize.
const (
	// StepFixed (also the empty string) steps by the learning rate:
	// w ← w − lr·d, the default.
	StepFixed = "fixed"
	// StepGN steps by the Gauss–Newton step size along d: t* = (g·d)/(dᵀGd),
	// G = (1/B) Σ_b w_b J_bᵀJ_b the importance-weighted Gauss–Newton matrix
	// of the minibatch (one batched JVP gives dᵀGd), damped to t*/(1+λ)
	// with λ adapted Levenberg–Marquardt style and capped by the learning
	// rate: t = min(lr, t*/(1+λ)). Under the softmax cross-entropy G is
	// the generalized Gauss–Newton matrix (1/B) Σ_b w_b J_bᵀ S_b J_b, S_b
	// the softmax Hessian diag(p_b) − p_b p_bᵀ at the step's logits.
	StepGN = "gn"
	// StepNewton (linear model only) solves the weighted normal equations
	// of the minibatch (with Batch = N: of the whole training set, every
	// point once) and steps min(lr, 1) of the way to their solution.
	StepNewton = "newton"
)

// StepSizeNames lists the step-size rules, for the CLI.
func StepSizeNames() []string { return []string{StepFixed, StepGN, StepNewton} }

// The Levenberg–Marquardt damping of StepGN: λ starts at 0 (the full
// Gauss–Newton step); a step whose ratio ρ of actual to predicted decrease
// of the weighted minibatch loss is below lmLow doubles λ (quadruples it
// when the loss rose), starting from lmMin; one above lmHigh halves it,
// down to lmMin and then 0; λ never exceeds lmMax.
const (
	lmLow, lmHigh = 0.25, 0.75
	lmMin, lmMax  = 0.125, 1e4
	// lmTiny: a predicted decrease below lmTiny × the minibatch loss is
	// within float32 rounding of the loss; its ρ is noise, and neither λ
	// nor the step is judged by it.
	lmTiny = 1e-6
)

// lmUpdate returns the damping after a step whose ratio of actual to
// predicted decrease was rho (NaN counts as a failure).
func lmUpdate(lambda, rho float64) float64 {
	switch {
	case !(rho >= lmLow):
		f := 2.0
		if !(rho >= 0) {
			f = 4
		}
		lambda = max(lambda*f, lmMin)
	case rho > lmHigh:
		lambda /= 2
		if lambda < lmMin {
			lambda = 0
		}
	}
	return min(lambda, lmMax)
}

// StepStats are the diagnostics of one calculated step (Config.StepSize gn
// or newton); all zero for the fixed step.
type StepStats struct {
	// StepSize is the rule (gn or newton); empty for the fixed step.
	StepSize string `json:"step_size,omitempty"`
	// T is the step size taken along the direction (the attempted one
	// when Rejected).
	T float64 `json:"step_t,omitempty"`
	// PredDecrease is the decrease of the weighted minibatch loss that
	// the quadratic (Gauss–Newton) model predicts for T, ActualDecrease
	// the one a forward pass measured after the step.
	PredDecrease   float64 `json:"pred_decrease,omitempty"`
	ActualDecrease float64 `json:"actual_decrease,omitempty"`
	// Lambda is the Levenberg–Marquardt damping λ the step used (gn).
	Lambda float64 `json:"lambda,omitempty"`
	// Rejected: the step raised the minibatch loss and was undone.
	Rejected bool `json:"rejected,omitempty"`
}

// stepStats returns the diagnostics of the last step of st (zero unless st
// is the host stepper, or wraps it, with a calculated step size).
func (t *Trainer) stepStats(st Stepper) StepStats {
	if t.onHost(st) {
		return t.host.stats
	}
	return StepStats{}
}

// checkStepSize is hostStepper.Start's check of the step-size rule against
// the model.
func (t *hostStepper) checkStepSize(cfg Config) error {
	if cfg.StepSize == StepNewton && len(t.m.Hidden) > 0 {
		return fmt.Errorf("step-size newton needs the linear model (--hidden 0); this model has hidden layers %v (use gn)", t.m.Hidden)
	}
	return nil
}

// stepGN takes one step of size t = min(lr, t*/(1+λ)) along the minibatch
// direction d (the gradient, or the momentum velocity), t* = (g·d)/(dᵀGd)
// the minimizer of the Gauss–Newton model of the weighted minibatch loss
// along d, with g the unclipped gradient. A step that raises the
// minibatch loss is undone (the parameters restored bit for bit).
//
// In a data-parallel run the gradient (hence g·d) is the global one, and
// the curvature and the loss after the step are summed over the ranks, so
// that every rank takes the same step and the same decision.
func (t *hostStepper) stepGN(lr float64) (loss float64, err error) {
	loss, scale, dir, err := t.direction()
	if err != nil {
		return 0, err
	}
	// g·d with the unclipped gradient (clipping scaled t.grad by scale).
	gd := t.be.Dot(t.grad, dir) / scale
	if t.vel != nil && !(gd > 0) && !math.IsNaN(gd) {
		// The velocity points uphill on this minibatch: restart the
		// momentum from the gradient.
		copy(t.vel, t.grad)
		gd = t.be.Dot(t.grad, dir) / scale
	}
	dGd, err := t.reduce1(t.curvature(dir))
	if err != nil {
		return 0, err
	}
	lambda := t.lambda
	step := lr
	// Zero curvature along d with g·d > 0 (a saturated softmax: S_b = 0
	// in float64) makes the model linear: t* = +Inf and the step is the
	// cap, still judged by its actual decrease (undone if the loss rose).
	tStar := gd / dGd
	model := gd > 0 && dGd >= 0 && !math.IsNaN(tStar)
	if model {
		step = min(lr, tStar/(1+lambda))
	}
	pred := step*gd - 0.5*step*step*dGd
	copy(t.backup, t.m.Params)
	t.be.Axpy(float32(-step), dir, t.m.Params)
	// The minibatch loss after the step: the first layer from the JVP's
	// tangent, the rest by a forward pass.
	t.mb.ForwardStep(t.be, t.m.Params, float32(step), t.jv)
	after, err := t.reduce1(t.outputLoss())
	if err != nil {
		return 0, err
	}
	actual := loss - after
	rejected := false
	if model && pred > lmTiny*math.Abs(loss) {
		t.lambda = lmUpdate(lambda, actual/pred)
		if !(actual >= 0) {
			copy(t.m.Params, t.backup)
			rejected, after = true, loss
		}
	}
	t.stats = StepStats{StepSize: StepGN, T: step, PredDecrease: pred, ActualDecrease: actual, Lambda: lambda, Rejected: rejected}
	if t.cfg.KeepStepping > 0 && !rejected {
		k, err := t.keepSteppingFrom(after, step, dir)
		t.extraSteps += k
		return loss, err
	}
	return loss, nil
}

// curvature returns dᵀGd for the minibatch of the last minibatchGrad
// (whose forward activations and outputs t.mb still holds), with one
// batched JVP v_b = J_b d (Out values per example); accumulated in float64.
// For MSE, dᵀGd = (1/B) Σ_b w_b |v_b|². For the softmax cross-entropy it
// is the generalized Gauss–Newton curvature (1/B) Σ_b w_b v_bᵀ S_b v_b
// with S_b = diag(p_b) − p_b p_bᵀ the Hessian of the loss in the logits,
// p_b = softmax(f_b): v_bᵀ S_b v_b = Σ_o p_o v_o² − (Σ_o p_o v_o)², the
// variance of v_b under p_b (≥ 0).
func (t *hostStepper) curvature(d []float32) float64 {
	B := len(t.idx)
	out := t.m.Out
	jv := t.jv[:B*out]
	t.mb.JVP(t.be, t.m.Params, d, jv)
	xent := t.m.Loss == nn.Xent
	f := t.mb.Output()
	var s float64
	for b := 0; b < B; b++ {
		v := jv[b*out : (b+1)*out]
		var q float64
		if xent {
			nn.Softmax(f[b*out:(b+1)*out], t.softmax)
			var mean, sq float64
			for o, vo := range v {
				pv := t.softmax[o] * float64(vo)
				mean += pv
				sq += pv * float64(vo)
			}
			q = max(sq-mean*mean, 0)
		} else {
			for _, vo := range v {
				q += float64(vo) * float64(vo)
			}
		}
		s += t.w[b] * q
	}
	return s / float64(B)
}

// newtonSolver holds the float64 normal equations of the linear model
// f(x) = W x + b: with φ = [x, 1], H = (1/B) Σ_b w_b φ_b φ_bᵀ and, per
// output o, c_o = (1/B) Σ_b w_b y_bo φ_b.
type newtonSolver struct {
	dim, out int
	h        *mat.SymDense
	rhs, sol *mat.Dense // dim × out
	theta    *mat.Dense // current parameters, dim × out
	chol     mat.Cholesky
	phi      []float64
	// allIdx, allW: the whole training set, weight 1 (Batch = N).
	allIdx []int
	allW   []float64
}

func newNewtonSolver(in, out, n, batch int) *newtonSolver {
	dim := in + 1
	s := &newtonSolver{dim: dim, out: out, h: mat.NewSymDense(dim, nil), rhs: mat.NewDense(dim, out, nil),
		sol: mat.NewDense(dim, out, nil), theta: mat.NewDense(dim, out, nil), phi: make([]float64, dim)}
	if batch == n {
		s.allIdx = make([]int, n)
		s.allW = make([]float64, n)
		for i := range s.allIdx {
			s.allIdx[i], s.allW[i] = i, 1
		}
	}
	return s
}

// errNewtonSingular: the normal equations could not be factorized even
// with the ridge term (non-finite data or parameters).
var errNewtonSingular = errors.New("step-size newton: the normal equations are not positive definite (non-finite data or parameters?)")

// stepNewton solves the ridge-regularized weighted normal equations of the
// minibatch for the linear model, (H + ρI) θ' = c + ρθ (the ridge pulls
// toward the current θ, so that directions the minibatch does not see stay
// put; ρ = 1e-9·tr(H)/dim + 1e-12), and steps θ ← θ + min(lr, 1)·(θ' − θ).
// With Batch = N it uses the whole training set instead of the draw.
func (t *hostStepper) stepNewton(lr float64) (loss float64, err error) {
	ns, m := t.newton, t.m
	if ns.allIdx != nil {
		t.idx, t.w = ns.allIdx, ns.allW
	}
	B := len(t.idx)
	in, out, dim := m.In, m.Out, ns.dim
	for b, i := range t.idx {
		copy(t.xb[b*in:(b+1)*in], t.x[i*in:(i+1)*in])
		copy(t.yb[b*out:(b+1)*out], t.y[i*out:(i+1)*out])
	}
	loss = t.batchLoss()
	h := ns.h
	for i := 0; i < dim; i++ {
		for j := i; j < dim; j++ {
			h.SetSym(i, j, 0)
		}
	}
	ns.rhs.Zero()
	phi := ns.phi
	for b := 0; b < B; b++ {
		s := t.w[b] / float64(B)
		for k, v := range t.xb[b*in : (b+1)*in] {
			phi[k] = float64(v)
		}
		phi[in] = 1
		for i := 0; i < dim; i++ {
			pi := s * phi[i]
			for j := i; j < dim; j++ {
				h.SetSym(i, j, h.At(i, j)+pi*phi[j])
			}
			for o := 0; o < out; o++ {
				ns.rhs.Set(i, o, ns.rhs.At(i, o)+pi*float64(t.yb[b*out+o]))
			}
		}
	}
	var tr float64
	for i := 0; i < dim; i++ {
		tr += h.At(i, i)
	}
	ridge := 1e-9*tr/float64(dim) + 1e-12
	W, bias := m.W(1), m.B(1)
	for o := 0; o < out; o++ {
		for k := 0; k < in; k++ {
			ns.theta.Set(k, o, float64(W[o*in+k]))
		}
		ns.theta.Set(in, o, float64(bias[o]))
	}
	// Predicted decrease of the exact quadratic L(θ) = ½θᵀHθ − c·θ + const
	// for the step s = θ' − θ: −t·(Hθ − c)·s − ½t²·sᵀHs, before the ridge
	// is added to H.
	var gs, sHs float64
	step := min(lr, 1)
	for i := 0; i < dim; i++ {
		h.SetSym(i, i, h.At(i, i)+ridge)
		for o := 0; o < out; o++ {
			ns.rhs.Set(i, o, ns.rhs.At(i, o)+ridge*ns.theta.At(i, o))
		}
	}
	if !ns.chol.Factorize(h) {
		return loss, errNewtonSingular
	}
	if err := ns.chol.SolveTo(ns.sol, ns.rhs); err != nil {
		return loss, fmt.Errorf("step-size newton: %w", err)
	}
	// sol ← s = θ' − θ; with (H+ρI)s = c − (H+ρI)θ + ρθ = −g: g·s = −sᵀ(H+ρI)s.
	ns.sol.Sub(ns.sol, ns.theta)
	for o := 0; o < out; o++ {
		for i := 0; i < dim; i++ {
			var hs float64
			for j := 0; j < dim; j++ {
				hs += h.At(i, j) * ns.sol.At(j, o)
			}
			si := ns.sol.At(i, o)
			gs -= si * hs               // sᵀ(H+ρI)s
			sHs += si * (hs - ridge*si) // sᵀHs
		}
	}
	pred := -step*gs - 0.5*step*step*sHs
	for o := 0; o < out; o++ {
		for k := 0; k < in; k++ {
			W[o*in+k] = float32(ns.theta.At(k, o) + step*ns.sol.At(k, o))
		}
		bias[o] = float32(ns.theta.At(in, o) + step*ns.sol.At(in, o))
	}
	after := t.batchLoss()
	t.stats = StepStats{StepSize: StepNewton, T: step, PredDecrease: pred, ActualDecrease: loss - after}
	return loss, nil
}
