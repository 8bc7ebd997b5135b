package engine

import (
	"errors"
	"math"

	"github.com/ntklsh/ntklsh/engine/nn"
)

// passKind selects what a full pass over examples computes per example.
type passKind int

const (
	passGradNorm   passKind = iota // |∇_w ℓ_i| at the current parameters (exact)
	passLoss                       // ℓ_i = ½|f_i − y_i|² at the current parameters
	passLinearized                 // |a_i|·(s_lin,i(w) − Σ_o y_io), signed, from the linearization at w0
	passResidual                   // |f_i − y_i| = |∂ℓ_i/∂f| at the current parameters
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

// perExample computes kind for every training point into out (N).
func (t *Trainer) perExample(kind passKind, out []float64) {
	t.runPass(kind, nil, out)
}

// perExampleSubset computes kind for the points ids into out.
func (t *Trainer) perExampleSubset(kind passKind, ids []int, out []float64) {
	t.runPass(kind, ids, out)
}

func (t *Trainer) residualNorms(ids []int, out []float64) { t.runPass(passResidual, ids, out) }

// runPass evaluates kind over the points ids (all points when nil) in
// batches on the trainer's workers.
func (t *Trainer) runPass(kind passKind, ids []int, out []float64) {
	m := t.m
	n := t.n
	if ids != nil {
		n = len(ids)
	}
	params := m.Params
	if kind == passLinearized {
		params = t.lin.W0
		for i := range t.delta {
			t.delta[i] = m.Params[i] - t.lin.W0[i]
		}
	}
	if n <= t.cfg.RehashBatch || len(t.workers) == 1 {
		// One batch (the lgd cosines, upper-bound's presample) or one
		// worker: inline, without goroutines, closures or allocation.
		for lo := 0; lo < n; lo += t.cfg.RehashBatch {
			t.passBatch(kind, ids, out, params, t.workers[0], lo, min(lo+t.cfg.RehashBatch, n))
		}
		return
	}
	forBatches(n, t.cfg.RehashBatch, len(t.workers), func(wi, lo, hi int) {
		t.passBatch(kind, ids, out, params, t.workers[wi], lo, hi)
	})
}

// passBatch evaluates kind over points lo..hi-1 of ids (of the data set
// when ids is nil) on worker w, writing out[lo:hi].
func (t *Trainer) passBatch(kind passKind, ids []int, out []float64, params []float32, w *passWorker, lo, hi int) {
	m := t.m
	in, o := m.In, m.Out
	cnt := hi - lo
	var x, y []float32
	if ids == nil {
		x, y = t.x[lo*in:hi*in], t.y[lo*o:hi*o]
	} else {
		for k, i := range ids[lo:hi] {
			copy(w.xb[k*in:(k+1)*in], t.x[i*in:(i+1)*in])
			copy(w.yb[k*o:(k+1)*o], t.y[i*o:(i+1)*o])
		}
		x, y = w.xb[:cnt*in], w.yb[:cnt*o]
	}
	id := func(k int) int {
		if ids == nil {
			return lo + k
		}
		return ids[lo+k]
	}
	w.b.Forward(t.be, params, x, cnt)
	f := w.b.Output()
	switch kind {
	case passLinearized:
		jvp := w.resid[:cnt*o]
		w.b.JVP(t.be, params, t.delta, jvp)
		for k := 0; k < cnt; k++ {
			i := id(k)
			s := t.lin.F0[i]
			for j := 0; j < o; j++ {
				s += float64(jvp[k*o+j])
			}
			out[lo+k] = t.lin.ANorm[i] * (s - t.lin.YSum[i])
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
		w.b.Backward(t.be, params, r)
		w.b.GradSqNorms(t.be, w.sq)
		for k := 0; k < cnt; k++ {
			out[lo+k] = math.Sqrt(w.sq[k])
		}
	}
}

// GradNorms sets out[k] to the exact per-sample gradient norm |∇_w ℓ_i| at
// the current parameters for i = ids[k] (every point when ids is nil).
func (t *Trainer) GradNorms(ids []int, out []float64) { t.runPass(passGradNorm, ids, out) }

// Losses sets out[k] to ℓ_i at the current parameters.
func (t *Trainer) Losses(ids []int, out []float64) { t.runPass(passLoss, ids, out) }

// LinearizedNorms sets out[k] to the NTK estimate of the gradient norm,
// |a_i|·|s_lin,i(w) − Σ_o y_io|, from the last rehash (for Out > 1 through
// the pNTK sum of logits). It fails before the first rehash.
func (t *Trainer) LinearizedNorms(ids []int, out []float64) error {
	if t.lin == nil {
		return errors.New("no linearization yet: rehash first")
	}
	t.runPass(passLinearized, ids, out)
	for i, v := range out {
		out[i] = math.Abs(v)
	}
	return nil
}

// SamplerProbs sets out[k] to the probability that one draw of the
// sampler, at the current parameters, picks ids[k] (every point when ids is
// nil). It returns false for a sampler without per-draw probabilities
// (upper-bound).
func (t *Trainer) SamplerProbs(ids []int, out []float64) bool {
	if ids == nil {
		ids = make([]int, t.n)
		for i := range ids {
			ids[i] = i
		}
	}
	return t.samp.probs(t, ids, out)
}

// Rehash linearizes at the current parameters now and rebuilds the
// sampler's tables or alias table.
func (t *Trainer) Rehash() error { return t.rehash() }

// linearizedCosines returns, for the drawn points, the cosine between the
// query and each hashed data vector (after the Simple-LSH transform when on):
// q·v_i / (|q|·|v_i|), or q·v_i / (|q|·M) with MIPS, into qv[k] for
// i = idx[k] (len(qv) ≥ len(idx)).
func (t *Trainer) linearizedCosines(idx []int, qv []float64) {
	qv = qv[:len(idx)]
	t.runPass(passLinearized, idx, qv)
	qn := t.hasher.QueryNorm(t.m.Params, t.lin.W0)
	for k, i := range idx {
		den := t.hasher.M
		if !t.hasher.Cfg.MIPS {
			_, _, n2 := t.hasher.dataVector(t.lin, i)
			den = math.Sqrt(n2)
		}
		if den == 0 {
			qv[k] = 0
			continue
		}
		qv[k] /= qn * den
	}
}
