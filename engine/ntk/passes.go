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
}

func newPassWorker(m *nn.MLP, batch int) *passWorker {
	return &passWorker{b: m.NewBatch(batch), xb: make([]float32, batch*m.In), yb: make([]float32, batch*m.Out),
		resid: make([]float32, batch*m.Out), sq: make([]float64, batch)}
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

// Losses sets out[k] to ℓ_i = ½|f_i − y_i|² at params.
func (p *Passes) Losses(params []float32, ids []int, out []float64) {
	p.run(passLoss, params, nil, nil, ids, out)
}

// Residuals sets out[k] to |f_i − y_i| = |∂ℓ_i/∂f| at params.
func (p *Passes) Residuals(params []float32, ids []int, out []float64) {
	p.run(passResidual, params, nil, nil, ids, out)
}

// Linearized sets out[k] to |a_i|·(s_lin,i(w) − Σ_o y_io), signed: q·v_i,
// the NTK estimate of the gradient norm up to its sign, from the
// linearization lin at w0, for the parameters w given as delta = w − w0
// (for Out > 1 through the pNTK sum of logits).
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
	w.b.Forward(p.be, params, x, cnt)
	f := w.b.Output()
	switch kind {
	case passLinearized:
		jvp := w.resid[:cnt*o]
		w.b.JVP(p.be, params, delta, jvp)
		for k := 0; k < cnt; k++ {
			i := id(k)
			s := lin.F0[i]
			for j := 0; j < o; j++ {
				s += float64(jvp[k*o+j])
			}
			out[lo+k] = lin.ANorm[i] * (s - lin.YSum[i])
		}
	case passLoss, passResidual:
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
		for j := range r {
			r[j] = f[j] - y[j]
		}
		w.b.Backward(p.be, params, r)
		w.b.GradSqNorms(p.be, w.sq)
		for k := 0; k < cnt; k++ {
			out[lo+k] = math.Sqrt(w.sq[k])
		}
	}
}

// MeanLoss returns the mean of ½|f(x_i) − y_i|² at params over a data set
// x (n × In), y (n × Out), which need not be the Passes' own. The partial
// sums are kept per batch and added in batch order, so the result does not
// depend on which worker took which batch.
func (p *Passes) MeanLoss(params, x, y []float32, n int) float64 {
	parts := make([]float64, (n+p.batch-1)/p.batch)
	m := p.m
	forBatches(n, p.batch, len(p.workers), func(wi, lo, hi int) {
		b := p.workers[wi].b
		b.Forward(p.be, params, x[lo*m.In:hi*m.In], hi-lo)
		f := b.Output()
		var s float64
		for j := range f {
			r := float64(f[j] - y[lo*m.Out+j])
			s += r * r
		}
		parts[lo/p.batch] = 0.5 * s
	})
	var s float64
	for _, v := range parts {
		s += v
	}
	return s / float64(n)
}
