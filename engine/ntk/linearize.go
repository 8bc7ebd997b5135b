package ntk

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/kernels"
)

// Linearization is what a rehash at w0 keeps per training point: O(N)
// numbers and O(N·L) codes, never the N×P Jacobian. s_i denotes the scalar
// that is linearized: f for one output, the sum of the outputs (pNTK) for
// several. Under the softmax cross-entropy (nn.Xent), and for MSE with
// several outputs under RehashOptions.MultiOutput = ResidualDirection, the
// fields hold the quantities of xent.go instead (Residual reports it):
// a_i = J_iᵀu_i (u_i the unit residual ∂ℓ_i/∂f at w0), ANorm = |a_i|,
// AHash = |c_i| with c_i = J_iᵀS_iu_i the hashed vector (S_i the softmax
// Jacobian; the identity for MSE, so c_i = a_i), F0 = ρ_i = |∂ℓ_i/∂f|,
// YSum = 0, B = ρ_i − c_i·w0.
type Linearization struct {
	N  int
	W0 []float32 // parameters at the rehash
	// residual is set when the fields hold the residual-direction
	// quantities (xent.go); see Residual.
	residual bool
	// ANorm[i] = |a_i|, a_i = ∂s_i/∂w at w0.
	ANorm []float64
	// B[i] = s_i(w0) − a_i·w0, so that s_i(w) ≈ B[i] + a_i·w.
	B []float64
	// BHash is b_i relative to the hashed layers: F0 − Σ_{hashed l} δ_l·z_l.
	// It is B itself unless HashConfig.LastLayerOnly is set.
	BHash []float64
	// AHash is the norm of the hashed block of a_i: ANorm itself unless
	// HashConfig.LastLayerOnly is set.
	AHash []float64
	// F0[i] = s_i(w0); YSum[i] = Σ_o y_io (the target of s_i).
	F0, YSum []float64
	// GradNorm0[i] is the exact norm of ∇_w ℓ_i at w0 (for Out = 1 it equals
	// |a_i|·|f_i(w0) − y_i|).
	GradNorm0 []float64
	// Codes holds the L hash codes of each point (N × L), nil without a hasher.
	Codes []uint32
	// M is the Simple-LSH scale, set by Hasher.SetScale: max_i |v_i| of
	// the hashed vectors (1 when that is 0 or not finite). It is the only
	// copy of the scale: the codes of the points and the LGD cosines read it.
	M float64
	// rawProj keeps R·a_i of every point (N × K·L) between the two steps
	// of a Simple-LSH rehash when it fits RehashOptions.MaxResidentBytes.
	rawProj []float32
	// packed holds the last rehash's weights packed for its products
	// (nn.PackedWeights), kept for their memory.
	packed *nn.PackedWeights
}

// RehashOptions sets the batch size and the number of goroutines.
type RehashOptions struct {
	Batch   int // examples per Jacobian batch (default 256)
	Workers int // goroutines (default GOMAXPROCS)
	// Progress, when set, is called (from the worker goroutines) after each
	// batch with the examples processed so far and the total, which is 2N
	// when the Simple-LSH scale needs a second pass.
	Progress func(done, total int)
	// MaxResidentBytes bounds the memory for keeping every point's raw
	// projections between the two steps of a Simple-LSH rehash (the scale M
	// is known only after all points): within it, one pass over the data
	// suffices; beyond it, the forward and backward passes run twice.
	// 0 means DefaultMaxResidentBytes; negative, never keep them.
	MaxResidentBytes int64
	// MultiOutput selects the linearization of an MSE model with several
	// outputs (SumOfLogits, the default, or ResidualDirection). It does not
	// apply to one output (both are the same scheme there) nor to nn.Xent
	// (always the residual direction).
	MultiOutput MultiOutput
}

// DefaultMaxResidentBytes is the default RehashOptions.MaxResidentBytes.
const DefaultMaxResidentBytes = 256 << 20

type rehashWorker struct {
	b        *nn.Batch
	s        *projScratch
	proj     []float32
	resid    []float32
	sq, dots []float64
	// nn.Xent (xent.go): the hashed direction S u and softmax scratch.
	xdir []float32
	xp   []float64
}

// forBatches runs fn over [0, n) in chunks of batch examples on up to
// workers goroutines; fn gets the worker index and the chunk.
func forBatches(n, batch, workers int, fn func(worker, lo, hi int)) {
	chunks := (n + batch - 1) / batch
	workers = max(1, min(workers, chunks))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for {
				c := int(next.Add(1) - 1)
				if c >= chunks {
					return
				}
				lo := c * batch
				fn(w, lo, min(lo+batch, n))
			}
		}(w)
	}
	wg.Wait()
}

// Linearizer linearizes a model of fixed shape over a fixed data set at
// given parameters: it fills a Linearization (reusing lin when its sizes
// fit, else allocating one) exactly as Rehash does, with every point's codes
// when h is not nil. CPU is the host implementation; an accelerator that
// keeps the data on its device (cuda.Rehasher) is another.
type Linearizer interface {
	Linearize(params []float32, h *Hasher, lin *Linearization) (*Linearization, error)
}

// CPU is the Linearizer of Rehash: model Model over the data set X (N × In),
// Y (N × Out) on Backend.
type CPU struct {
	Backend kernels.Backend
	Model   *nn.MLP // its shape; its parameters are not read
	X, Y    []float32
	N       int
	Options RehashOptions
}

// Linearize implements Linearizer; it does not fail.
func (c *CPU) Linearize(params []float32, h *Hasher, lin *Linearization) (*Linearization, error) {
	return rehash(c.Backend, c.Model, params, c.X, c.Y, c.N, h, c.Options, lin), nil
}

// Rehash linearizes model m at its current parameters over the data set
// (x: N × In, y: N × Out), streaming it in batches, and, with a hasher,
// computes every point's codes. lin is reused when its sizes fit.
func Rehash(be kernels.Backend, m *nn.MLP, x, y []float32, n int, h *Hasher, opt RehashOptions, lin *Linearization) *Linearization {
	return rehash(be, m, m.Params, x, y, n, h, opt, lin)
}

func rehash(be kernels.Backend, m *nn.MLP, params, x, y []float32, n int, h *Hasher, opt RehashOptions, lin *Linearization) *Linearization {
	if opt.Batch <= 0 {
		opt.Batch = 256
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	if lin == nil || lin.N != n {
		lin = &Linearization{N: n, ANorm: make([]float64, n), B: make([]float64, n), F0: make([]float64, n),
			YSum: make([]float64, n), GradNorm0: make([]float64, n)}
	}
	lin.W0 = append(lin.W0[:0], params...)
	lastOnly := h != nil && h.Cfg.LastLayerOnly
	rd := residualMode(m, opt.MultiOutput)
	lin.residual = rd
	if lastOnly {
		if len(lin.BHash) != n || n > 0 && &lin.BHash[0] == &lin.B[0] {
			lin.BHash, lin.AHash = make([]float64, n), make([]float64, n)
		}
	} else if rd {
		// The hashed vector c differs from a under nn.Xent (xent.go):
		// AHash is its own.
		lin.BHash = lin.B
		if len(lin.AHash) != n || n > 0 && &lin.AHash[0] == &lin.ANorm[0] {
			lin.AHash = make([]float64, n)
		}
	} else {
		lin.BHash, lin.AHash = lin.B, lin.ANorm
	}
	if h != nil && len(lin.Codes) != n*h.Cfg.L {
		lin.Codes = make([]uint32, n*h.Cfg.L)
	}
	out := m.Out
	workers := make([]*rehashWorker, opt.Workers)
	for i := range workers {
		w := &rehashWorker{b: m.NewBatch(opt.Batch), resid: make([]float32, opt.Batch*out),
			sq: make([]float64, opt.Batch), dots: make([]float64, opt.Batch)}
		if rd {
			w.xdir, w.xp = make([]float32, opt.Batch*out), make([]float64, out)
		}
		if h != nil {
			w.s = h.newScratch(m, opt.Batch)
			w.proj = make([]float32, opt.Batch*h.kl)
		}
		workers[i] = w
	}
	// Every batch multiplies by the same weights: pack them once for all
	// workers (bit for bit the per-product packing; none on backends that
	// cannot, nor for batches of ≤ 64 rows, whose products read the
	// weights in place on the AVX-512 level). The panels stay in lin for the
	// next rehash's memory; the vector is let go at the end.
	if opt.Batch > 64 {
		if pw := m.PackWeights(be, params, lin.packed, true); pw != nil {
			lin.packed = pw
			defer pw.Detach()
			for _, w := range workers {
				w.b.UseWeights(pw)
			}
		}
	}
	onePass := h != nil && !h.Cfg.MIPS
	// With MIPS, keep the raw projections R·a_i of every point when they fit
	// the budget, and finish the codes once M is known: one pass, not two.
	limit := opt.MaxResidentBytes
	if limit == 0 {
		limit = DefaultMaxResidentBytes
	}
	resident := h != nil && h.Cfg.MIPS && int64(n)*int64(h.kl)*4 <= limit
	if resident {
		if cap(lin.rawProj) < n*h.kl {
			lin.rawProj = make([]float32, n*h.kl)
		}
		lin.rawProj = lin.rawProj[:n*h.kl]
	} else {
		lin.rawProj = nil
	}
	total := n
	if h != nil && !onePass && !resident {
		total = 2 * n
	}
	var done atomic.Int64
	report := func(cnt int) {
		if opt.Progress != nil {
			opt.Progress(int(done.Add(int64(cnt))), total)
		}
	}
	forBatches(n, opt.Batch, opt.Workers, func(wi, lo, hi int) {
		w := workers[wi]
		cnt := hi - lo
		b := w.b
		// Norms only (no hasher, so D is not needed afterwards), where
		// the model and backend allow it: one fused pass that reads H and
		// f only, so the hidden pre-activations need not be written.
		fused := h == nil && !rd && b.HasOnesNorms(be)
		if fused {
			b.ForwardOutputs(be, params, x[lo*m.In:hi*m.In], cnt)
		} else {
			b.Forward(be, params, x[lo*m.In:hi*m.In], cnt)
		}
		if rd {
			w.residualBatch(be, m, params, y, lin, lo, cnt)
		} else {
			f := b.Output()
			for i := 0; i < cnt; i++ {
				var fs, ys float64
				for o := 0; o < out; o++ {
					fs += float64(f[i*out+o])
					ys += float64(y[(lo+i)*out+o])
					w.resid[i*out+o] = f[i*out+o] - y[(lo+i)*out+o]
				}
				lin.F0[lo+i], lin.YSum[lo+i] = fs, ys
			}
			if out > 1 {
				b.Backward(be, params, w.resid[:cnt*out])
				b.GradSqNorms(be, w.sq)
				for i := 0; i < cnt; i++ {
					lin.GradNorm0[lo+i] = math.Sqrt(w.sq[i])
				}
			}
			if !fused || !b.OnesNorms(be, params, w.sq, w.dots) {
				b.BackwardOnes(be, params)
				b.GradSqNorms(be, w.sq)
				b.DeltaDotZ(be, w.dots)
			}
			for i := 0; i < cnt; i++ {
				an := math.Sqrt(w.sq[i])
				lin.ANorm[lo+i] = an
				lin.B[lo+i] = lin.F0[lo+i] - w.dots[i]
				if out == 1 {
					lin.GradNorm0[lo+i] = an * math.Abs(lin.F0[lo+i]-lin.YSum[lo+i])
				}
			}
		}
		if lastOnly {
			L := m.Layers()
			in := m.Sizes[L-1]
			be.RowDots(cnt, out, b.D[L], out, b.Z[L], out, w.dots)
			be.RowSumSquares(cnt, in, 1, b.H[L-1], in, w.sq)
			for i := 0; i < cnt; i++ {
				lin.BHash[lo+i] = lin.F0[lo+i] - w.dots[i]
				d := b.D[L][i*out : (i+1)*out]
				lin.AHash[lo+i] = math.Sqrt(be.Dot(d, d) * (w.sq[i] + 1))
			}
		}
		if onePass {
			w.hashBatch(be, h, lin, lo, cnt)
		}
		if resident {
			proj := lin.rawProj[lo*h.kl : hi*h.kl]
			clear(proj)
			h.proj.addBatch(be, b, proj, w.s)
		}
		report(cnt)
	})
	if h == nil {
		return lin
	}
	h.SetScale(lin)
	if resident {
		L := h.Cfg.L
		forBatches(n, opt.Batch, opt.Workers, func(_, lo, hi int) {
			h.codesFromProjections(be, lin.rawProj[lo*h.kl:hi*h.kl], lin, lo, hi-lo, lin.Codes[lo*L:hi*L])
		})
	} else if !onePass {
		forBatches(n, opt.Batch, opt.Workers, func(wi, lo, hi int) {
			w := workers[wi]
			w.b.Forward(be, params, x[lo*m.In:hi*m.In], hi-lo)
			w.hashedBackward(be, m, params, y, lin.residual, lo, hi-lo)
			w.hashBatch(be, h, lin, lo, hi-lo)
			report(hi - lo)
		})
	}
	return lin
}

// hashBatch projects the batch's gradients (after BackwardOnes) and writes
// the codes of points lo..lo+cnt.
func (w *rehashWorker) hashBatch(be kernels.Backend, h *Hasher, lin *Linearization, lo, cnt int) {
	proj := w.proj[:cnt*h.kl]
	clear(proj)
	h.proj.addBatch(be, w.b, proj, w.s)
	L := h.Cfg.L
	h.codesFromProjections(be, proj, lin, lo, cnt, lin.Codes[lo*L:(lo+cnt)*L])
}
