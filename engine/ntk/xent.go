package ntk

import (
	"fmt"
	"math"

	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/kernels"
)

// Softmax cross-entropy (nn.Xent) in the linearization.
//
// For one example with logits f = f(x, w), target y (Σ_o y_o = 1) and
// p = softmax(f), ∂ℓ/∂f = r := p − y, so ∇_w ℓ = Jᵀ r with J = ∂f/∂w
// (Out × P). Three quantities are needed:
//
//   - ntk-static's exact norm at w0, |J₀ᵀ r₀|: one backward of r₀ per
//     point (Batch.Backward with dOut = p − y), GradSqNorms — no per-output
//     Jacobians. It is GradNorm0.
//
//   - What lsh hashes and ntk-exact scores. The linearized model is
//     f_lin(w) = f₀ + J₀ δ, δ = w − w0, with gradient norm
//     |J₀ᵀ (softmax(f₀ + J₀δ) − y)|. That is not an inner product of a
//     per-point vector with a query built from w alone, so it is
//     approximated in two steps:
//     (1) the residual keeps its direction at w0: with ρ = |r₀| and
//     u = r₀/ρ, r(w) ≈ (u·r(w)) u, so |∇ℓ| ≈ |J₀ᵀu|·|u·r(w)| = |a|·|u·r(w)|
//     with a := J₀ᵀu, the residual-weighted backward at w0 (exact at w0:
//     |a|ρ = GradNorm0);
//     (2) u·r(w) is linearized in δ through the softmax Jacobian
//     S = diag(p₀) − p₀p₀ᵀ (symmetric): u·r(w) ≈ ρ + (Su)ᵀJ₀δ = ρ + c·δ
//     with c := J₀ᵀ(Su), one more backward, of Su = p₀⊙u − p₀(p₀·u).
//     So q·v = |a|·(ρ + c·δ) — the MSE form |a|·(r₀ + a·δ) with the hashed
//     vector c in place of a and the residual coordinate ρ in place of r₀ —
//     and the re-centred query q = [δ/α, 1] against v = |a|[α c, ρ] applies
//     unchanged (the paper query [w, −1] against v = |a|[c, −(ρ − c·w0)]
//     too). In the Linearization: ANorm = |a| (the multiplier), AHash =
//     |c| (the norm of the hashed block), F0 = ρ, YSum = 0, B = ρ − c·w0,
//     and the codes are the projections of c (the batch's D after the
//     backward of Su). For MSE with one output the same construction gives
//     u = sign(r₀), S = 1, c = ±a: the existing scheme, up to the sign.
//
//     Why not the pNTK "sum of logits" of MSE: Σ_o r_o = Σ_o p_o − 1 = 0
//     for every w, so the sum-of-logits residual is identically zero. Why
//     not a few random output projections: each would be one more hashed
//     vector per point (tables × projections) and a sum over them is not
//     one inner product; the residual direction at w0 is the one that
//     matters, and it is exact at δ = 0.
//
//   - upper-bound's score: |∂ℓ/∂f| = |p − y| (Katharopoulos & Fleuret use
//     |p − y|·|h_L|, a tighter bound for the last layer only).
//
// MSE with several outputs (RehashOptions.MultiOutput = ResidualDirection)
// is the same construction with S = I: ∂ℓ/∂f = r = f − y, u = r₀/ρ,
// a = J₀ᵀu, and u·r(w) ≈ ρ + uᵀJ₀δ = ρ + a·δ exactly for the linearized
// model (step (2) makes no error: r is linear in f). So c = a, the hashed
// vector is a itself (AHash = ANorm) and q·v = |a|·(ρ + a·δ); the only
// approximation is step (1), the residual's direction frozen at w0, and
// |a|ρ = |J₀ᵀr₀| is exact at w0. One backward (of u) per point suffices:
// GradNorm0 = |a|·ρ. The default for MSE, SumOfLogits, linearizes the pNTK
// scalar s = Σ_o f_o instead, whose gradient J₀ᵀ1 ignores the residual's
// direction altogether (|J₀ᵀ1|·|Σ_o r_o| is not |J₀ᵀr| even at w0).

// MultiOutput selects what the linearization of an MSE model with more
// than one output linearizes (RehashOptions.MultiOutput).
type MultiOutput int

const (
	// SumOfLogits linearizes the pNTK scalar s_i = Σ_o f_io (the default).
	SumOfLogits MultiOutput = iota
	// ResidualDirection linearizes along the residual's direction at w0
	// (xent.go with S = I).
	ResidualDirection
)

// String returns "sum" or "residual".
func (m MultiOutput) String() string {
	switch m {
	case SumOfLogits:
		return "sum"
	case ResidualDirection:
		return "residual"
	}
	return fmt.Sprintf("MultiOutput(%d)", int(m))
}

// ParseMultiOutput parses "" or "sum" (SumOfLogits) and "residual".
func ParseMultiOutput(s string) (MultiOutput, error) {
	switch s {
	case "", "sum":
		return SumOfLogits, nil
	case "residual":
		return ResidualDirection, nil
	}
	return SumOfLogits, fmt.Errorf("multi-output linearization %q: want sum or residual", s)
}

// residualMode reports whether a rehash of m under mode keeps the
// residual-direction quantities: always for nn.Xent, for MSE with several
// outputs under ResidualDirection.
func residualMode(m *nn.MLP, mode MultiOutput) bool {
	return m.Loss == nn.Xent || mode == ResidualDirection && m.Out > 1
}

// Residual reports whether lin holds the residual-direction quantities of
// xent.go (nn.Xent, or MSE with several outputs under ResidualDirection)
// rather than those of the linearized scalar s_i.
func (lin *Linearization) Residual() bool { return lin.residual }

// residualDirections sets, for one example with outputs f and target y
// under loss, r = ∂ℓ/∂f and g = S u (u = r/|r|; S the softmax Jacobian for
// nn.Xent, the identity for MSE), and returns ρ = |r|. r and g may be the
// same slice. p is scratch of len(f). With ρ = 0, g = 0.
func residualDirections(loss nn.Loss, f, y []float32, r, g []float32, p []float64) (rho float64) {
	if loss == nn.Xent {
		return xentDirections(f, y, r, g, p)
	}
	var s float64
	for o := range f {
		d := float64(f[o]) - float64(y[o])
		p[o] = d
		r[o] = float32(d)
		s += d * d
	}
	rho = math.Sqrt(s)
	for o := range f {
		if rho == 0 {
			g[o] = 0
		} else {
			g[o] = float32(p[o] / rho)
		}
	}
	return rho
}

// xentDirections sets, for one example with logits f and target y,
// r = p − y and g = S u (u = r/|r|, S the softmax Jacobian at f), and
// returns ρ = |r|. p is scratch of len(f). With ρ = 0, g = 0.
func xentDirections(f, y []float32, r, g []float32, p []float64) (rho float64) {
	nn.Softmax(f, p)
	var s, pu float64
	for o := range f {
		d := p[o] - float64(y[o])
		r[o] = float32(d)
		s += d * d
	}
	rho = math.Sqrt(s)
	if rho == 0 {
		clear(g[:len(f)])
		return 0
	}
	for o := range f {
		pu += p[o] * (p[o] - float64(y[o])) / rho
	}
	for o := range f {
		u := (p[o] - float64(y[o])) / rho
		g[o] = float32(p[o]*u - p[o]*pu)
	}
	return rho
}

// residualBatch is rehash's per-batch work in the residual-direction mode
// (nn.Xent, or MSE under ResidualDirection), after the batch's Forward at
// params: GradNorm0, ANorm, AHash, F0 (= ρ), YSum (= 0) and B of points
// lo..lo+cnt, leaving the batch's D holding the backward of S u (the
// hashed direction c) for the hash. For MSE (S = I) the backward of u
// gives a = c and GradNorm0 = |a|·ρ; for nn.Xent, a needs its own
// backward (of r = ρu).
func (w *rehashWorker) residualBatch(be kernels.Backend, m *nn.MLP, params, y []float32, lin *Linearization, lo, cnt int) {
	b, out := w.b, m.Out
	f := b.Output()
	for i := 0; i < cnt; i++ {
		rho := residualDirections(m.Loss, f[i*out:(i+1)*out], y[(lo+i)*out:(lo+i+1)*out], w.resid[i*out:(i+1)*out], w.xdir[i*out:(i+1)*out], w.xp)
		lin.F0[lo+i], lin.YSum[lo+i] = rho, 0
	}
	xent := m.Loss == nn.Xent
	if xent {
		b.Backward(be, params, w.resid[:cnt*out])
		b.GradSqNorms(be, w.sq)
		for i := 0; i < cnt; i++ {
			g := math.Sqrt(w.sq[i])
			lin.GradNorm0[lo+i] = g
			if rho := lin.F0[lo+i]; rho > 0 {
				lin.ANorm[lo+i] = g / rho
			} else {
				lin.ANorm[lo+i] = 0
			}
		}
	}
	b.Backward(be, params, w.xdir[:cnt*out])
	b.GradSqNorms(be, w.sq)
	b.DeltaDotZ(be, w.dots)
	for i := 0; i < cnt; i++ {
		c := math.Sqrt(w.sq[i])
		lin.AHash[lo+i] = c
		lin.B[lo+i] = lin.F0[lo+i] - w.dots[i]
		if !xent {
			lin.ANorm[lo+i] = c
			lin.GradNorm0[lo+i] = c * lin.F0[lo+i]
		}
	}
}

// hashedBackward runs, after the batch's Forward at params over points
// lo..lo+cnt, the backward whose D the hash projects: of the sum of the
// outputs (MSE, SumOfLogits), of S u (residual set: nn.Xent, or MSE under
// ResidualDirection).
func (w *rehashWorker) hashedBackward(be kernels.Backend, m *nn.MLP, params, y []float32, residual bool, lo, cnt int) {
	if !residual {
		w.b.BackwardOnes(be, params)
		return
	}
	out := m.Out
	f := w.b.Output()
	for i := 0; i < cnt; i++ {
		residualDirections(m.Loss, f[i*out:(i+1)*out], y[(lo+i)*out:(lo+i+1)*out], w.resid[i*out:(i+1)*out], w.xdir[i*out:(i+1)*out], w.xp)
	}
	w.b.Backward(be, params, w.xdir[:cnt*out])
}
