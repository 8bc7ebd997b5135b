package ntk

import (
	"math"

	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/kernels"
)

// passKind selects what a full pass over examples computes per example.
type passKind int

const (
	passGradNorm   passKind = iota // |∇_w ℓ_i| at the given parameters (exact)
	passLoss                       // ℓ_i = ½|f_i − y_i|² at the given parameters
	passLinearized                 // |a_i|·(s_lin,i(w) − Σ_o y_io), signed, from the linearization at w0
	passResidual                   // |f_i − y_i| = |∂ℓ_i/∂f| at the given parameters
)

type passWorker struct {
	b      *nn.Batch
	xb, yb []float32
	resid  []float32
	sq     []float64
	// nn.Xent: softmax scratch (Out) and the direction S u (batch × Out).
	p   []float64
	dir []float32
}

func newPassWorker(m *nn.MLP, batch int) *passWorker {
	return &passWorker{b: m.NewBatch(batch), xb: make([]float32, batch*m.In), yb: make([]float32, batch*m.Out),
		resid: make([]float32, batch*m.Out), sq: make([]float64, batch), p: make([]float64, m.Out),
		dir: make([]float32, batch*m.Out)}
}

// Passes computes per-example quantities of a model of fixed shape over a
// fixed data set at given parameters, streamed in batches on a few
// workers: the exact gradient norms, the losses, the residual norms and the
// linearized values. The samplers that score every point each step use it,
// and so do the trainer's evaluations. A Passes is not safe for concurrent
// use: its workers' buffers are shared by its calls.
type Passes struct {
	be      kernels.Backend
	m       *nn.MLP
	x, y    []float32
	n       int
	batch   int
	workers []*passWorker
	// packed: the weights of the current long pass, packed once for every
	// worker's products (nn.PackedWeights), kept between passes for their
	// memory.
	packed *nn.PackedWeights
}

// packedMinBatches is the fewest batches a pass must have for its weights
// to be packed once for all of them: below it, the per-product packing is
// cheaper than packing every layer up front.
const packedMinBatches = 4

// bindWeights packs params's weights for the workers (the backward
// products' too with backward) when a pass over n points has enough batches
// to repay it, and reports whether it did; the caller then unbinds them
// when the pass ends (the same vector may change before the next pass).
func (p *Passes) bindWeights(params []float32, n int, backward bool) bool {
	if n < packedMinBatches*p.batch {
		return false
	}
	pw := p.m.PackWeights(p.be, params, p.packed, backward)
	if pw == nil {
		return false
	}
	p.packed = pw
	for _, w := range p.workers {
		w.b.UseWeights(pw)
	}
	return true
}

// unbindWeights ends bindWeights's pass: the workers stop reading the
// panels and they no longer hold the vector.
func (p *Passes) unbindWeights() {
	for _, w := range p.workers {
		w.b.UseWeights(nil)
	}
	p.packed.Detach()
}

// NewPasses prepares passes over x (n × m.In), y (n × m.Out) in batches of
// batch examples on workers goroutines. Only m's shape is used.
func NewPasses(be kernels.Backend, m *nn.MLP, x, y []float32, n, batch, workers int) *Passes {
	p := &Passes{be: be, m: m, x: x, y: y, n: n, batch: batch, workers: make([]*passWorker, workers)}
	for i := range p.workers {
		p.workers[i] = newPassWorker(m, batch)
	}
	return p
}

// N is the number of points.
func (p *Passes) N() int { return p.n }

// GradNorms sets out[k] to the exact per-sample gradient norm |∇_w ℓ_i| at
// params for i = ids[k] (every point when ids is nil).
func (p *Passes) GradNorms(params []float32, ids []int, out []float64) {
	p.run(passGradNorm, params, nil, nil, ids, out)
}

// Losses sets out[k] to ℓ_i at params (½|f_i − y_i|² for MSE).
func (p *Passes) Losses(params []float32, ids []int, out []float64) {
	p.run(passLoss, params, nil, nil, ids, out)
}

// Residuals sets out[k] to |∂ℓ_i/∂f| at params: |f_i − y_i| (MSE),
// |softmax(f_i) − y_i| (Xent).
func (p *Passes) Residuals(params []float32, ids []int, out []float64) {
	p.run(passResidual, params, nil, nil, ids, out)
}

// Linearized sets out[k] to |a_i|·(s_lin,i(w) − Σ_o y_io), signed: q·v_i,
// the NTK estimate of the gradient norm up to its sign, from the
// linearization lin at w0, for the parameters w given as delta = w − w0
// (for Out > 1 through the pNTK sum of logits, or along the residual's
// direction at w0 when lin.Residual()).
func (p *Passes) Linearized(lin *Linearization, delta []float32, ids []int, out []float64) {
	p.run(passLinearized, lin.W0, lin, delta, ids, out)
}

// run evaluates kind over the points ids (all points when nil) in batches
// on the workers.
func (p *Passes) run(kind passKind, params []float32, lin *Linearization, delta []float32, ids []int, out []float64) {
	n := p.n
	if ids != nil {
		n = len(ids)
	}
	if p.bindWeights(params, n, kind == passGradNorm) {
		defer p.unbindWeights()
	}
	if n <= p.batch || len(p.workers) == 1 {
		// One batch (the lgd cosines, upper-bound's presample) or one
		// worker: inline, without goroutines, closures or allocation.
		for lo := 0; lo < n; lo += p.batch {
			p.passBatch(kind, ids, out, params, lin, delta, p.workers[0], lo, min(lo+p.batch, n))
		}
		return
	}
	forBatches(n, p.batch, len(p.workers), func(wi, lo, hi int) {
		p.passBatch(kind, ids, out, params, lin, delta, p.workers[wi], lo, hi)
	})
}

// passBatch evaluates kind over points lo..hi-1 of ids (of the data set
// when ids is nil) on worker w, writing out[lo:hi].
func (p *Passes) passBatch(kind passKind, ids []int, out []float64, params []float32, lin *Linearization, delta []float32, w *passWorker, lo, hi int) {
	m := p.m
	in, o := m.In, m.Out
	cnt := hi - lo
	var x, y []float32
	if ids == nil {
		x, y = p.x[lo*in:hi*in], p.y[lo*o:hi*o]
	} else {
		for k, i := range ids[lo:hi] {
			copy(w.xb[k*in:(k+1)*in], p.x[i*in:(i+1)*in])
			copy(w.yb[k*o:(k+1)*o], p.y[i*o:(i+1)*o])
		}
		x, y = w.xb[:cnt*in], w.yb[:cnt*o]
	}
	id := func(k int) int {
		if ids == nil {
			return lo + k
		}
		return ids[lo+k]
	}
	// Every kind reads H, the outputs and (Backward, JVP) the ReLU masks
	// from H, never a hidden layer's Z.
	w.b.ForwardOutputs(p.be, params, x, cnt)
	f := w.b.Output()
	switch kind {
	case passLinearized:
		jvp := w.resid[:cnt*o]
		w.b.JVP(p.be, params, delta, jvp)
		if lin.residual {
			// q·v = |a|·(ρ + (S u)·J₀δ) (xent.go), with f the outputs at
			// w0 (S = I for MSE).
			for k := 0; k < cnt; k++ {
				i := id(k)
				residualDirections(m.Loss, f[k*o:(k+1)*o], y[k*o:(k+1)*o], w.dir[k*o:(k+1)*o], w.dir[k*o:(k+1)*o], w.p)
				var s float64
				for j := 0; j < o; j++ {
					s += float64(w.dir[k*o+j]) * float64(jvp[k*o+j])
				}
				out[lo+k] = lin.ANorm[i] * (lin.F0[i] + s)
			}
			break
		}
		for k := 0; k < cnt; k++ {
			i := id(k)
			s := lin.F0[i]
			for j := 0; j < o; j++ {
				s += float64(jvp[k*o+j])
			}
			out[lo+k] = lin.ANorm[i] * (s - lin.YSum[i])
		}
	case passLoss, passResidual:
		if m.Loss == nn.Xent {
			for k := 0; k < cnt; k++ {
				fk, yk := f[k*o:(k+1)*o], y[k*o:(k+1)*o]
				if kind == passLoss {
					out[lo+k] = m.Loss.Value(fk, yk, w.p)
				} else {
					out[lo+k] = m.Loss.ResidualNorm(fk, yk, w.p)
				}
			}
			break
		}
		for k := 0; k < cnt; k++ {
			var s float64
			for j := 0; j < o; j++ {
				r := float64(f[k*o+j] - y[k*o+j])
				s += r * r
			}
			if kind == passLoss {
				out[lo+k] = 0.5 * s
			} else {
				out[lo+k] = math.Sqrt(s)
			}
		}
	case passGradNorm:
		r := w.resid[:cnt*o]
		if m.Loss == nn.Xent {
			for k := 0; k < cnt; k++ {
				m.Loss.Residual(f[k*o:(k+1)*o], y[k*o:(k+1)*o], 1, r[k*o:(k+1)*o], w.p)
			}
		} else {
			for j := range r {
				r[j] = f[j] - y[j]
			}
		}
		w.b.Backward(p.be, params, r)
		w.b.GradSqNorms(p.be, w.sq)
		for k := 0; k < cnt; k++ {
			out[lo+k] = math.Sqrt(w.sq[k])
		}
	}
}

// MeanLoss returns the mean loss ℓ (½|f(x_i) − y_i|² for MSE, the
// cross-entropy for Xent) at params over a data set x (n × In), y (n ×
// Out), which need not be the Passes' own. The partial sums are kept per
// batch and added in batch order, so the result does not depend on which
// worker took which batch.
func (p *Passes) MeanLoss(params, x, y []float32, n int) float64 {
	return p.Metrics(params, x, y, n, false).Loss
}

// Metrics are a data set's mean loss and, for a classifier, its accuracy
// and cross-entropy.
type Metrics struct {
	Loss float64 // the mean training loss ℓ
	// Accuracy is the fraction of points whose largest output is at the
	// largest target (the class of a one-hot row); CrossEntropy the mean of
	// −Σ_o y_o log softmax(f)_o (the xent loss whatever the training
	// loss). Both are 0 unless asked for and Out ≥ 2.
	Accuracy, CrossEntropy float64
}

// Metrics computes the mean loss as MeanLoss does and, when class is set
// and the model has at least 2 outputs, the accuracy and cross-entropy, in
// one forward pass.
func (p *Passes) Metrics(params, x, y []float32, n int, class bool) Metrics {
	nb := (n + p.batch - 1) / p.batch
	parts := make([]float64, 3*nb)
	m := p.m
	class = class && m.Out >= 2
	if p.bindWeights(params, n, false) {
		defer p.unbindWeights()
	}
	forBatches(n, p.batch, len(p.workers), func(wi, lo, hi int) {
		w := p.workers[wi]
		b := w.b
		b.ForwardOutputs(p.be, params, x[lo*m.In:hi*m.In], hi-lo) // the losses read f only
		f := b.Output()
		part := parts[3*(lo/p.batch):]
		o := m.Out
		if m.Loss == nn.MSE {
			var s float64
			for j := range f {
				r := float64(f[j] - y[lo*o+j])
				s += r * r
			}
			part[0] = 0.5 * s
		}
		if m.Loss != nn.MSE || class {
			var l, acc, ce float64
			for k := 0; k < hi-lo; k++ {
				fk, yk := f[k*o:(k+1)*o], y[(lo+k)*o:(lo+k+1)*o]
				v := nn.Xent.Value(fk, yk, w.p)
				ce += v
				if m.Loss == nn.Xent {
					l += v
				}
				if nn.Argmax(fk) == nn.Argmax(yk) {
					acc++
				}
			}
			if m.Loss == nn.Xent {
				part[0] = l
			}
			part[1], part[2] = acc, ce
		}
	})
	var r Metrics
	for k := 0; k < nb; k++ {
		r.Loss += parts[3*k]
		r.Accuracy += parts[3*k+1]
		r.CrossEntropy += parts[3*k+2]
	}
	r.Loss /= float64(n)
	if class {
		r.Accuracy /= float64(n)
		r.CrossEntropy /= float64(n)
	} else {
		r.Accuracy, r.CrossEntropy = 0, 0
	}
	return r
}
