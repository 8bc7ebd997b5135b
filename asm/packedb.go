package asm

// PackedB is the B operand of products that share it, packed once: op(B)
// (k×n) in the packed driver's panels, every k block of it, so that each
// product taking the packed path reads the panels instead of packing B
// again. The rehash multiplies every batch of the training set by the same
// weights (and projections); a call of Sgemm packs them once per batch.
// Reading panels packed once made the AVX-512 level's 256×1024×1024 NT
// product 5.7 % faster and the 128×1024×1024 one 17 % (medians of 40
// calls, asm/bench/emr-2026-11-30-packed/cblas-2.txt).
//
// A PackedB holds a reference to b as well: products that Sgemm runs
// without packing B (m = 1 or n = 1, the small-m paths of nopack.go, a
// tile width other than the one packed) read b itself, so that SgemmPacked
// is Sgemm bit for bit on every shape. b must therefore stay unchanged
// while the PackedB is in use; pack again after changing it. A PackedB may
// be shared by goroutines (it is read only); packing into it is not safe
// while products read it.
type PackedB struct {
	isa    ISA
	nr     int // panel width: the tile width the driver will use
	transB bool
	k, n   int
	b      []float32
	ldb    int
	nPad   int       // n rounded up to nr
	data   []float32 // k block at pc: kb × nPad floats at data[pc·nPad:], nr-column panels
}

// Dims returns op(B)'s shape, k × n.
func (p *PackedB) Dims() (k, n int) { return p.k, p.n }

// Floats is the number of float32 elements the packed panels hold (0 when
// none were packed): the memory a PackedB adds to its operand.
func (p *PackedB) Floats() int { return len(p.data) }

// PackB packs op(B) (k×n; b with leading dimension ldb, transposed when
// transB) for products on the kernels of l into p, reusing p's buffer when
// it is large enough, and returns p (a new PackedB when p is nil). Shapes
// that Sgemm never packs (k or n zero, n = 1) store only the reference.
func (l ISA) PackB(p *PackedB, transB bool, k, n int, b []float32, ldb int) *PackedB {
	l.check()
	if p == nil {
		p = new(PackedB)
	}
	// The shape check of Sgemm with a one-row A and C.
	CheckSgemm("asm", false, transB, 1, n, k, k, k, len(b), ldb, n, n)
	nr := tileNR(l)
	if narrows(l, n) {
		nr = tileNR(narrowISA(l))
	}
	*p = PackedB{isa: l, nr: nr, transB: transB, k: k, n: n, b: b, ldb: ldb, data: p.data[:0]}
	if k == 0 || n <= 1 || generalOnly {
		return p
	}
	p.nPad = (n + nr - 1) / nr * nr
	total := k * p.nPad
	if cap(p.data) < total {
		p.data = make([]float32, total)
	}
	p.data = p.data[:total]
	g := gemm{isa: l, nr: nr, transB: transB, k: k, b: b, ldb: ldb}
	if nr != tileNR(l) {
		g.isa = narrowISA(l)
	}
	for pc := 0; pc < k; pc += kcBlock {
		kb := min(kcBlock, k-pc)
		g.packB(p.data[pc*p.nPad:pc*p.nPad+kb*p.nPad], pc, kb, 0, n)
	}
	return p
}

// SgemmPacked is SgemmThreads(maxThreads, transA, p's transB, m, n, k,
// alpha, a, lda, b, ldb, beta, c, ldc) with op(B) = p's operand, bit for
// bit, reading p's panels where that product packs B. p must have been
// packed for l.
func (l ISA) SgemmPacked(maxThreads int, transA bool, m int, alpha float32, a []float32, lda int, p *PackedB, beta float32, c []float32, ldc int) {
	l.check()
	p.checkFor(l)
	l.sgemm(maxThreads, transA, p.transB, m, p.n, p.k, alpha, a, lda, p.b, p.ldb, p, beta, c, ldc)
}

// SgemmBiasReLUPacked is SgemmBiasReLU(maxThreads, m, n, k, a, lda, b, ldb,
// bias, z, ldz, h, ldh) with the weights b (n×k, so p packed with transB)
// taken from p, bit for bit.
func (l ISA) SgemmBiasReLUPacked(maxThreads, m int, a []float32, lda int, p *PackedB, bias, z []float32, ldz int, h []float32, ldh int) {
	l.check()
	p.checkFor(l)
	if !p.transB {
		panic("asm: SgemmBiasReLUPacked needs B packed transposed (the weights n×k)")
	}
	l.sgemmBiasReLU(maxThreads, m, p.n, p.k, a, lda, p.b, p.ldb, p, bias, z, ldz, h, ldh)
}

// checkFor panics unless p was packed for level l.
func (p *PackedB) checkFor(l ISA) {
	if p == nil || p.isa != l {
		panic("asm: PackedB packed for another kernel level (or nil)")
	}
}

// panels returns the packed k block at pc for columns [jc, jc+nb) (jc a
// multiple of the panel width): what packB would write for them.
func (p *PackedB) panels(pc, kb, jc, nb int) []float32 {
	nbPad := (nb + p.nr - 1) / p.nr * p.nr
	base := pc * p.nPad
	return p.data[base+jc*kb : base+(jc+nbPad)*kb]
}

// usable reports whether g's packed path can read p's panels: the same
// panel width and kernels as g will use.
func (p *PackedB) usable(g *gemm) bool {
	return p != nil && len(p.data) > 0 && p.nr == g.nr && g.path == packed
}
