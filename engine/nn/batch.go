package nn

import (
	"math"

	"github.com/ntklsh/ntklsh/kernels"
)

// Batch holds the activations of a batch of up to Cap examples and the
// buffers of its backward and forward-mode passes. It is reused across
// batches; nothing in it allocates after NewBatch. A Batch is not safe for
// concurrent use; give each goroutine its own.
type Batch struct {
	m   *MLP
	Cap int
	// N is the number of examples of the last Forward.
	N int
	// X is the input of the last Forward (N × In, not owned).
	X []float32
	// Z[l] holds the pre-activations z_l (Cap × Sizes[l]), l = 1..Layers.
	Z [][]float32
	// H[l] holds h_l = σ(z_l) (Cap × Sizes[l]) for hidden layers l = 1..Layers−1;
	// H[0] is X.
	H [][]float32
	// D[l] holds δ_l = ∂s/∂z_l of the scalar s that Backward propagated.
	D [][]float32

	ones       []float32
	tan, tanH  [][]float32 // forward-mode tangents ż_l and ḣ_l
	rowScratch []float64
	sqScratch  []float64 // GradSqNorms: |δ_l|² per example
	norms      []float64 // OnesNorms: three sums per example
	// zStale: the last forward pass was ForwardOutputs through a dense
	// ReLU layer, so the hidden layers' Z are not that pass's.
	zStale bool
	// pw: weights packed for the products (UseWeights), read while the
	// parameters are the ones packed.
	pw *PackedWeights
}

// NewBatch allocates the buffers for batches of up to capacity examples.
func (m *MLP) NewBatch(capacity int) *Batch {
	if capacity < 1 {
		panic("nn: batch capacity must be positive")
	}
	L := m.Layers()
	b := &Batch{m: m, Cap: capacity}
	b.Z = make([][]float32, L+1)
	b.H = make([][]float32, L)
	b.D = make([][]float32, L+1)
	for l := 1; l <= L; l++ {
		b.Z[l] = make([]float32, capacity*m.Sizes[l])
		b.D[l] = make([]float32, capacity*m.Sizes[l])
		if l < L {
			b.H[l] = make([]float32, capacity*m.Sizes[l])
		}
	}
	b.ones = make([]float32, capacity)
	for i := range b.ones {
		b.ones[i] = 1
	}
	b.rowScratch = make([]float64, capacity)
	b.sqScratch = make([]float64, capacity)
	return b
}

// Model returns the MLP whose shape this batch has.
func (b *Batch) Model() *MLP { return b.m }

// Forward computes the activations of the n examples in x (n × In) for the
// parameter vector params (any vector of the model's layout).
func (b *Batch) Forward(be kernels.Backend, params []float32, x []float32, n int) {
	b.zStale = false
	if b.load(params, x, n) {
		b.forwardFrom(be, params, 1, true)
	}
}

// ForwardOutputs is Forward for callers that read only the activations H
// and the outputs (a loss, the norms of OnesNorms): with a backend's dense
// ReLU layer (kernels.DenseReLU) each hidden layer is one call that writes
// its activations only, not its pre-activations (Z[l] for l < Layers is
// left stale; H and Output are Forward's, bit for bit): half the bytes.
func (b *Batch) ForwardOutputs(be kernels.Backend, params []float32, x []float32, n int) {
	b.zStale = false
	if b.load(params, x, n) {
		b.zStale = b.forwardFrom(be, params, 1, false)
	}
}

// load makes x's first n examples the batch, checking the sizes; it
// reports whether there is anything to compute.
func (b *Batch) load(params []float32, x []float32, n int) bool {
	m := b.m
	if n > b.Cap || n < 0 {
		panic("nn: batch larger than its capacity")
	}
	if len(x) < n*m.In || len(params) != m.NumParams() {
		panic("nn: Forward input or parameters of the wrong size")
	}
	b.N = n
	b.X = x[:n*m.In]
	b.H[0] = b.X
	return n > 0
}

// forwardFrom computes the layers l0..Layers of the last Forward's batch
// from H[l0−1]; keepZ false lets a backend's dense ReLU layer write each
// hidden layer's activations alone (ForwardOutputs), and reports whether
// any layer's Z was left stale so. With Z kept, the three steps measured no
// slower than the dense layer writing both (the bytes written, not the
// passes, set the time).
func (b *Batch) forwardFrom(be kernels.Backend, params []float32, l0 int, keepZ bool) (zStale bool) {
	m, n := b.m, b.N
	L := m.Layers()
	dense, _ := be.(kernels.DenseReLU)
	pw, pp := b.packedFor(be, params)
	for l := l0; l <= L; l++ {
		out, in := m.Sizes[l], m.Sizes[l-1]
		z := b.Z[l][:n*out]
		bias := m.BOf(params, l)
		var wp kernels.PackedB
		if pw != nil {
			wp = pw.fwd[l]
		}
		if dense != nil && !keepZ && l < L && m.Activation == ReLU {
			// One call for the product, the bias and the ReLU, written
			// once, into H: bit for bit the activations of the three
			// steps below.
			h := b.H[l][:n*out]
			if wp != nil {
				pp.LinearReLUPacked(n, b.H[l-1], in, wp, bias, h, out, h, out)
			} else {
				dense.LinearReLU(n, out, in, b.H[l-1], in, m.WOf(params, l), in, bias, h, out, h, out)
			}
			zStale = true
			continue
		}
		for i := 0; i < n; i++ {
			copy(z[i*out:(i+1)*out], bias)
		}
		if wp != nil {
			pp.SgemmPacked(false, n, 1, b.H[l-1], in, wp, 1, z, out)
		} else {
			be.Sgemm(false, true, n, out, in, 1, b.H[l-1], in, m.WOf(params, l), in, 1, z, out)
		}
		if l < L {
			activate(be, m.Activation, z, b.H[l][:n*out])
		}
	}
	return zStale
}

// ForwardStep brings the activations of the last Forward (not ForwardOutputs:
// it starts from that Forward's z_1) to the parameters
// params = w − step·t, where w were that Forward's parameters and t the
// tangent of the JVP that followed it, whose output was jvpOut: the first
// layer's pre-activations are affine in its weights and bias with the input
// fixed, so z_1 ← z_1 − step·ż_1 replaces its product (ż_1 is jvpOut for a
// model without hidden layers), and the later layers are recomputed from
// params. It saves the first layer's product of a second Forward, the
// widest one for a narrow input; z_1 then differs from a fresh Forward's
// by rounding.
func (b *Batch) ForwardStep(be kernels.Backend, params []float32, step float32, jvpOut []float32) {
	m, n := b.m, b.N
	if len(params) != m.NumParams() {
		panic("nn: ForwardStep parameters of the wrong size")
	}
	if b.zStale {
		panic("nn: ForwardStep after ForwardOutputs (it needs Forward's z_1)")
	}
	if n == 0 {
		return
	}
	w := m.Sizes[1]
	zd := jvpOut
	if m.Layers() > 1 {
		if b.tan == nil {
			panic("nn: ForwardStep without a JVP")
		}
		zd = b.tan[1]
	}
	z := b.Z[1][:n*w]
	be.Axpy(-step, zd[:n*w], z)
	if m.Layers() > 1 {
		activate(be, m.Activation, z, b.H[1][:n*w])
		b.forwardFrom(be, params, 2, true)
	}
}

// Output returns f for the batch (N × Out), a view into Z[Layers].
func (b *Batch) Output() []float32 { return b.Z[b.m.Layers()][:b.N*b.m.Out] }

// reluKernels returns the backend's vector ReLU kernels, or, for a backend
// without them (cuda), kernels.Generic's, which are the reference loops
// (asm.ReLUGeneric and asm.ReLUMaskGeneric).
func reluKernels(be kernels.Backend) kernels.ReLUKernels {
	if k, ok := be.(kernels.ReLUKernels); ok {
		return k
	}
	return genericReLU
}

var genericReLU = kernels.Generic.(kernels.ReLUKernels)

// activate sets h = σ(z), the ReLU through reluKernels.
func activate(be kernels.Backend, a Activation, z, h []float32) {
	switch a {
	case ReLU:
		reluKernels(be).ReLU(z, h)
	case Tanh:
		for i, v := range z {
			h[i] = float32(math.Tanh(float64(v)))
		}
	}
}

// scaleByDerivative multiplies g by σ'(z) in place, reading the activation
// h = σ(z) (tanh' = 1 − h², relu' = [h ≠ 0]), the ReLU mask through
// reluKernels.
func scaleByDerivative(be kernels.Backend, a Activation, h, g []float32) {
	switch a {
	case ReLU:
		reluKernels(be).ReLUMask(h, g)
	case Tanh:
		for i, v := range h {
			g[i] *= 1 - v*v
		}
	}
}

// Backward propagates dOut = ∂s/∂f (N × Out) of some scalar s back through the
// network at params (the parameters of the last Forward), filling D. With
// dOut = 1 for every output, s is the sum of the outputs (for Out = 1, f
// itself); with dOut = f − y, s is the loss.
func (b *Batch) Backward(be kernels.Backend, params []float32, dOut []float32) {
	m := b.m
	n := b.N
	L := m.Layers()
	if len(dOut) < n*m.Out {
		panic("nn: Backward dOut too short")
	}
	copy(b.D[L][:n*m.Out], dOut[:n*m.Out])
	pw, pp := b.packedFor(be, params)
	for l := L; l > 1; l-- {
		out, in := m.Sizes[l], m.Sizes[l-1]
		prev := b.D[l-1][:n*in]
		if pw != nil && pw.bwd[l] != nil {
			pp.SgemmPacked(false, n, 1, b.D[l], out, pw.bwd[l], 0, prev, in)
		} else {
			be.Sgemm(false, false, n, in, out, 1, b.D[l], out, m.WOf(params, l), in, 0, prev, in)
		}
		scaleByDerivative(be, m.Activation, b.H[l-1][:n*in], prev)
	}
}

// BackwardOnes runs Backward with dOut = 1 everywhere: the gradient of the
// sum of the outputs (the pNTK "sum of logits" for Out > 1).
func (b *Batch) BackwardOnes(be kernels.Backend, params []float32) {
	m := b.m
	n := b.N
	L := m.Layers()
	d := b.D[L][:n*m.Out]
	for i := range d {
		d[i] = 1
	}
	b.Backward(be, params, d)
}

// AccumulateGrad adds Σ_i ∂s_i/∂w over the batch into grad (a vector of the
// model's layout): W_l += δ_lᵀ h_{l−1}, b_l += Σ_i δ_l.
func (b *Batch) AccumulateGrad(be kernels.Backend, grad []float32) {
	m := b.m
	n := b.N
	if n == 0 {
		return
	}
	for l := 1; l <= m.Layers(); l++ {
		out, in := m.Sizes[l], m.Sizes[l-1]
		be.Sgemm(true, false, out, in, n, 1, b.D[l], out, b.H[l-1], in, 1, m.WOf(grad, l), in)
		be.Sgemm(true, false, out, 1, n, 1, b.D[l], out, b.ones, 1, 1, m.BOf(grad, l), 1)
	}
}

// GradSqNorms sets out[i] = |∂s_i/∂w|² = Σ_l |δ_l|² (|h_{l−1}|² + 1) for each
// example of the batch, without forming the gradient.
func (b *Batch) GradSqNorms(be kernels.Backend, out []float64) {
	m := b.m
	n := b.N
	out = out[:n]
	clear(out)
	hs, ds := b.rowScratch[:n], b.sqScratch[:n]
	for l := 1; l <= m.Layers(); l++ {
		width, in := m.Sizes[l], m.Sizes[l-1]
		be.RowSumSquares(n, in, 1, b.H[l-1], in, hs)
		for i := range hs {
			hs[i]++
		}
		// |δ_l|² of every row in one call: on the CPU levels a row's
		// RowSumSquares is bit for bit its Dot with itself
		// (asm.TestRowSumSquaresIsDot), which this loop used to call
		// per row.
		be.RowSumSquares(n, width, 1, b.D[l], width, ds)
		for i := range ds {
			out[i] += ds[i] * hs[i]
		}
	}
}

// DeltaDotZ sets out[i] = Σ_l δ_l·z_l, which is a_i·w for the parameters w of
// the last Forward, a_i = ∂s_i/∂w (z_l includes the bias).
func (b *Batch) DeltaDotZ(be kernels.Backend, out []float64) {
	if b.zStale {
		panic("nn: DeltaDotZ after ForwardOutputs (it reads the hidden layers' Z)")
	}
	m := b.m
	n := b.N
	out = out[:n]
	clear(out)
	tmp := b.rowScratch[:n]
	for l := 1; l <= m.Layers(); l++ {
		w := m.Sizes[l]
		be.RowDots(n, w, b.D[l], w, b.Z[l], w, tmp)
		for i := range tmp {
			out[i] += tmp[i]
		}
	}
}

// OnesNorms sets, for a one-output network with one ReLU hidden layer on a
// backend with the fused ReLU norms (kernels.ReLUNorms), sq[i] = |a_i|² and
// dots[i] = a_i·w, a_i = ∂f_i/∂w, and reports true: what BackwardOnes,
// GradSqNorms and DeltaDotZ give, bit for bit, in one pass over the hidden
// activations and without the backward product (δ_2 = 1, δ_1 = w_2 ⊙
// [h_1 ≠ 0]). D is not written. For any other model or backend it does
// nothing and reports false. The one difference from the unfused path: a
// pre-activation of −∞ on a dead unit adds 0·(−∞) = NaN to DeltaDotZ's
// δ_1·z_1 there and 0 here.
func (b *Batch) OnesNorms(be kernels.Backend, params []float32, sq, dots []float64) bool {
	m := b.m
	if !b.HasOnesNorms(be) {
		return false
	}
	k := be.(kernels.ReLUNorms)
	n := b.N
	if n == 0 {
		return true
	}
	in, width := m.Sizes[0], m.Sizes[1]
	if b.norms == nil {
		b.norms = make([]float64, 3*b.Cap)
	}
	hw := b.norms[:3*n]
	k.MaskedRowNorms(n, width, b.H[1], width, m.WOf(params, 2), hw)
	xs := b.rowScratch[:n]
	be.RowSumSquares(n, in, 1, b.X, in, xs)
	f := b.Output()
	for i := 0; i < n; i++ {
		// GradSqNorms: |δ_1|²(|x|² + 1) + |δ_2|²(|h|² + 1), |δ_2|² = 1;
		// the conversion rounds the product as there (no fused
		// multiply-add). DeltaDotZ: δ_1·z_1 + δ_2·z_2 = Σ d·h + f.
		sq[i] = float64(hw[3*i+1]*(xs[i]+1)) + (hw[3*i] + 1)
		dots[i] = hw[3*i+2] + float64(f[i])
	}
	return true
}

// HasOnesNorms says whether OnesNorms runs (rather than report false) for
// this batch's model on be: one output, one ReLU hidden layer, a backend
// with the fused ReLU norms. It reads H and the outputs only, so a caller
// may then run ForwardOutputs instead of Forward.
func (b *Batch) HasOnesNorms(be kernels.Backend) bool {
	_, ok := be.(kernels.ReLUNorms)
	m := b.m
	return ok && m.Out == 1 && m.Layers() == 2 && m.Activation == ReLU
}

// JVP computes the directional derivative of the outputs along tangent t
// (a vector of the model's layout) at the parameters of the last Forward:
// out (N × Out) = (∂f/∂w)·t, by forward-mode differentiation:
// ż_l = Ẇ_l h_{l−1} + W_l ḣ_{l−1} + ḃ_l, ḣ_l = σ'(z_l) ⊙ ż_l.
func (b *Batch) JVP(be kernels.Backend, params, t []float32, out []float32) {
	m := b.m
	n := b.N
	L := m.Layers()
	if b.tan == nil {
		b.tan = make([][]float32, L+1)
		b.tanH = make([][]float32, L)
		for l := 1; l <= L; l++ {
			b.tan[l] = make([]float32, b.Cap*m.Sizes[l])
			if l < L {
				b.tanH[l] = make([]float32, b.Cap*m.Sizes[l])
			}
		}
	}
	for l := 1; l <= L; l++ {
		w, in := m.Sizes[l], m.Sizes[l-1]
		zd := b.tan[l][:n*w]
		if l == L {
			zd = out[:n*w]
		}
		bias := m.BOf(t, l)
		for i := 0; i < n; i++ {
			copy(zd[i*w:(i+1)*w], bias)
		}
		if n == 0 {
			continue
		}
		be.Sgemm(false, true, n, w, in, 1, b.H[l-1], in, m.WOf(t, l), in, 1, zd, w)
		if l > 1 {
			be.Sgemm(false, true, n, w, in, 1, b.tanH[l-1], in, m.WOf(params, l), in, 1, zd, w)
		}
		if l < L {
			hd := b.tanH[l][:n*w]
			copy(hd, zd)
			scaleByDerivative(be, m.Activation, b.H[l][:n*w], hd)
		}
	}
}
