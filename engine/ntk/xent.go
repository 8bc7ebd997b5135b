package ntk

import (
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

// xentBatch is rehash's per-batch work under nn.Xent, after the batch's
// Forward at params: GradNorm0, ANorm, AHash, F0 (= ρ), YSum (= 0) and B of
// points lo..lo+cnt, leaving the batch's D holding the backward of S u
// (the hashed direction c) for the hash.
func (w *rehashWorker) xentBatch(be kernels.Backend, m *nn.MLP, params, y []float32, lin *Linearization, lo, cnt int) {
	b, out := w.b, m.Out
	f := b.Output()
	for i := 0; i < cnt; i++ {
		rho := xentDirections(f[i*out:(i+1)*out], y[(lo+i)*out:(lo+i+1)*out], w.resid[i*out:(i+1)*out], w.xdir[i*out:(i+1)*out], w.xp)
		lin.F0[lo+i], lin.YSum[lo+i] = rho, 0
	}
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
	b.Backward(be, params, w.xdir[:cnt*out])
	b.GradSqNorms(be, w.sq)
	b.DeltaDotZ(be, w.dots)
	for i := 0; i < cnt; i++ {
		lin.AHash[lo+i] = math.Sqrt(w.sq[i])
		lin.B[lo+i] = lin.F0[lo+i] - w.dots[i]
	}
}

// hashedBackward runs, after the batch's Forward at params over points
// lo..lo+cnt, the backward whose D the hash projects: of the sum of the
// outputs (MSE), of S u (Xent).
func (w *rehashWorker) hashedBackward(be kernels.Backend, m *nn.MLP, params, y []float32, lo, cnt int) {
	if m.Loss != nn.Xent {
		w.b.BackwardOnes(be, params)
		return
	}
	out := m.Out
	f := w.b.Output()
	for i := 0; i < cnt; i++ {
		xentDirections(f[i*out:(i+1)*out], y[(lo+i)*out:(lo+i+1)*out], w.resid[i*out:(i+1)*out], w.xdir[i*out:(i+1)*out], w.xp)
	}
	w.b.Backward(be, params, w.xdir[:cnt*out])
}
