package nn

import (
	"sync/atomic"

	"github.com/ntklsh/ntklsh/kernels"
)

// PackedWeightsBudget is the most float32 elements one PackedWeights holds
// (256 MiB): a layer whose panels would take its total past it is left to
// pack per product, as without PackedWeights. The panels are a second copy
// of each weight matrix for the forward pass and, with the backward ones, a
// third. Each holder has its own budget: the engine keeps one per
// Linearization (two with the background rehash) and one per Passes.
const PackedWeightsBudget = 64 << 20

// PackedWeights holds the weight matrices of one parameter vector packed
// for a backend's products (kernels.PackedProducts), for passes that run
// many batches through the same weights: the rehash. A Batch given them
// (UseWeights) reads the panels in Forward, ForwardOutputs and Backward
// while the parameters it is called with are that vector, bit for bit the
// results it computes without them. The vector must not change while they
// are in use (the rehash's parameters are fixed for its pass); PackWeights
// again after it does.
type PackedWeights struct {
	backend string    // the name of the backend that packed them
	params  []float32 // the vector packed (compared by identity); nil after Detach
	fwd     []kernels.PackedB
	bwd     []kernels.PackedB // nil entries: Backward packs per product
	spare   []kernels.PackedB // backward panels kept for their memory while not in use
	floats  int
}

// PackWeights packs the weights of params (the model's layout) for be's
// products into pw, reusing its memory (pw nil: new), and returns it; nil
// when be cannot pack (no kernels.PackedProducts: generic, cuda). For layer
// l, W_l is packed as the forward's B (z_l = h_{l−1}·W_lᵀ) and, with
// backward and l ≥ 2, as Backward's (δ_{l−1} = δ_l·W_l); passes that only
// evaluate the network leave backward false (Backward then packs per
// product).
func (m *MLP) PackWeights(be kernels.Backend, params []float32, pw *PackedWeights, backward bool) *PackedWeights {
	pp, ok := be.(kernels.PackedProducts)
	if !ok || !weightPacking.Load() {
		return nil
	}
	if len(params) != m.NumParams() {
		panic("nn: PackWeights parameters of the wrong size")
	}
	L := m.Layers()
	if pw == nil || len(pw.fwd) != L+1 {
		pw = &PackedWeights{fwd: make([]kernels.PackedB, L+1), bwd: make([]kernels.PackedB, L+1), spare: make([]kernels.PackedB, L+1)}
	}
	if pw.backend != be.Name() {
		// Another backend's panels cannot be reused.
		clear(pw.fwd)
		clear(pw.bwd)
		clear(pw.spare)
	}
	pw.backend, pw.params, pw.floats = be.Name(), params, 0
	for l := 1; l <= L; l++ {
		out, in := m.Sizes[l], m.Sizes[l-1]
		w := m.WOf(params, l)
		pw.fwd[l] = pw.pack(pp, pw.fwd[l], true, in, out, w, in)
		if pw.bwd[l] != nil {
			pw.spare[l], pw.bwd[l] = pw.bwd[l], nil
		}
		if l >= 2 && backward {
			pw.bwd[l] = pw.pack(pp, pw.spare[l], false, out, in, w, in)
			pw.spare[l] = nil
		}
	}
	return pw
}

// pack packs op(w) (k × n) into p when the budget allows, else returns nil.
func (pw *PackedWeights) pack(pp kernels.PackedProducts, p kernels.PackedB, transB bool, k, n int, w []float32, ldw int) kernels.PackedB {
	// Panels are n rounded up to a tile width (at most 32) by k.
	if pw.floats+k*(n+31) > PackedWeightsBudget {
		return nil
	}
	p = pp.PackB(p, transB, k, n, w, ldw)
	pw.floats += p.Floats()
	return p
}

// Floats is the number of float32 elements the panels in use hold (0 for
// nil: no packing).
func (pw *PackedWeights) Floats() int {
	if pw == nil {
		return 0
	}
	return pw.floats
}

// Detach forgets the parameter vector (nil-safe): no Batch reads the panels
// until the next PackWeights, whose memory they keep, and the vector is no
// longer held.
func (pw *PackedWeights) Detach() {
	if pw != nil {
		pw.params = nil
	}
}

// UseWeights makes b read pw's panels while it is called with pw's
// parameter vector on pw's backend (nil: never). b keeps pw until the next
// call.
func (b *Batch) UseWeights(pw *PackedWeights) { b.pw = pw }

// packedFor returns b's packed weights and be's PackedProducts when they
// were packed from params on a backend of be's name, else nil.
func (b *Batch) packedFor(be kernels.Backend, params []float32) (*PackedWeights, kernels.PackedProducts) {
	pw := b.pw
	if pw == nil || len(params) == 0 || len(pw.params) != len(params) || &pw.params[0] != &params[0] || pw.backend != be.Name() {
		return nil, nil
	}
	pp, ok := be.(kernels.PackedProducts)
	if !ok {
		return nil, nil
	}
	return pw, pp
}

var weightPacking atomic.Bool

func init() { weightPacking.Store(true) }

// SetWeightPacking turns PackWeights on (the default) or off (it then
// returns nil: every product packs its weights itself) and returns a
// function that restores the previous setting. Meant for benchmarks that
// compare the two; the results are the same bit for bit.
func SetWeightPacking(on bool) (restore func()) {
	prev := weightPacking.Swap(on)
	return func() { weightPacking.Store(prev) }
}
