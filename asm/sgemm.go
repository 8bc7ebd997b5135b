package asm

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Cache blocking of the GEMM driver (Goto/BLIS loop order). A kc×nr packed
// B micro-panel (16 KiB at kc = 256) stays in L1 while the packed mc×kc A
// block (144 KiB) streams from L2 and the packed kc×nc B block (4 MiB)
// lives in L3. mc is a multiple of mr and nc of both tile widths (16, 32).
// The AVX-512 tile (nr = 32) doubles the B micro-panel to 32 KiB, still
// inside the 48 KiB L1 of the cores it is chosen on.
const (
	kcBlock = 256
	mcBlock = 144
	ncBlock = 4064
)

// parallelMinWork is the m·n·k each goroutine of a split product must get;
// below twice that one goroutine is faster than waking others. At 1<<18 the
// 32×1024×16 products of a training step were split, and the futex wake-ups
// cost more than they saved: 1<<20 made a width-1024 step 1.2–1.3× faster
// with no change in the rehash (bench: TrainWidth1024, RehashCores).
const parallelMinWork = 1 << 20

// storeBoundK: a product with k below it is bound by writing C (m·n
// stores) rather than by its m·n·k multiply-adds, and counts as k =
// storeBoundK toward parallelMinWork — the outer product δ_L·W_L of a
// one-output network's backward pass (k = 1) goes parallel from m·n = 2^17
// on (the width-4096 step at batch 256 writes 4 MiB there).
const storeBoundK = 16

var maxThreads atomic.Int64

// SetMaxThreads caps the number of goroutines one Sgemm call uses (n ≤ 0
// means GOMAXPROCS, the default) and returns a function that restores the
// previous cap. Meant for benchmarks and tests.
func SetMaxThreads(n int) (restore func()) {
	prev := maxThreads.Swap(int64(n))
	return func() { maxThreads.Store(prev) }
}

// threads returns how many goroutines Sgemm may use now.
func threads() int {
	t := runtime.GOMAXPROCS(0)
	if c := int(maxThreads.Load()); c > 0 && c < t {
		t = c
	}
	return t
}

// gemmScratch holds one goroutine's packing buffers.
type gemmScratch struct {
	a    []float32 // packed mc×kc block of alpha·op(A), mr-row panels
	b    []float32 // packed kc×nc block of op(B), nr-column panels
	tile [mr * maxNR]float32
}

var scratchPool = sync.Pool{New: func() any { return new(gemmScratch) }}

// grow returns s with length n, reallocating only when its capacity is short.
func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major float32
// matrices, where op(X) is X, or Xᵀ when the matching trans flag is set;
// op(A) is m×k, op(B) is k×n and C is m×n with leading dimensions lda, ldb,
// ldc. With beta == 0, C is not read (NaN in C does not propagate). Large
// products are split by rows (or, when m is small, by columns) of C over up
// to GOMAXPROCS goroutines (see SetMaxThreads); each goroutine owns whole
// blocks of C and its own packing buffers.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	Current().SgemmThreads(0, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SgemmThreads is Sgemm using at most maxThreads goroutines (≤ 0: as many
// as Sgemm would), for a caller that shares the cores with other work (the
// engine's background rehash). The split is by whole blocks of C, so the
// result does not depend on the number of goroutines.
func SgemmThreads(maxThreads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	Current().SgemmThreads(maxThreads, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Sgemm is the package-level Sgemm on the kernels of l: the 6×16 tile
// (Go twin or AVX2) or the 6×32 tile (AVX-512).
func (l ISA) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	l.SgemmThreads(0, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SgemmThreads is Sgemm on the kernels of l with at most maxThreads
// goroutines (≤ 0: no limit beyond Sgemm's own).
func (l ISA) SgemmThreads(maxThreads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	l.check()
	l.sgemm(maxThreads, transA, transB, m, n, k, alpha, a, lda, b, ldb, nil, beta, c, ldc)
}

// sgemm is SgemmThreads with op(B)'s panels read from pre where the product
// packs B (pre nil: packed per k block); paths that do not pack B read b.
func (l ISA) sgemm(maxThreads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, pre *PackedB, beta float32, c []float32, ldc int) {
	CheckSgemm("asm", transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleRows(m, n, beta, c, ldc)
		return
	}
	g := gemm{isa: l, nr: tileNR(l), transA: transA, transB: transB, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc}
	if (m == 1 || n == 1) && !generalOnly {
		g.gemv(m, n)
		return
	}
	g.path = chosen(nopackFor(l, transA, transB, m, n, k), l, transA, transB)
	g.pre = pre
	g.execute(maxThreads, m, n)
}

// narrows reports whether a product n columns wide on level l, packed,
// runs on the 16-wide packing instead of l's wider tile (a 32-wide tile
// would be all edge); execute also asks beta ∈ {0, 1}.
func narrows(l ISA, n int) bool { return n <= nr && tileNR(l) > nr }

// execute runs g (its path chosen) over m×n on up to maxThreads goroutines
// (0: the package's limit).
func (g gemm) execute(maxThreads, m, n int) {
	g.dotAOuter = m > n
	if g.path == packed && narrows(g.isa, n) && (g.beta == 0 || g.beta == 1) && !generalOnly {
		// A 32-wide tile would be all edge: use the 16-wide one (the
		// AVX2 packing), with the 12×16 zmm tile where rows allow.
		g.isa, g.nr, g.narrow12 = narrowISA(g.isa), nr, tile12x16
	}

	t, work := threads(), m*n*max(g.k, storeBoundK)
	if maxThreads > 0 {
		t = min(t, maxThreads)
	}
	if work < parallelMinWork*2 || t < 2 {
		g.block(0, m, 0, n)
		return
	}
	g.runParallel(m, n, min(t, work/parallelMinWork))
}

// SgemmBiasReLU computes a dense ReLU layer of a batch on the kernels of l:
// z = a·bᵀ + 1·biasᵀ (a: m×k, lda; b: n×k, ldb; bias: n; z: m×n, ldz) and
// h = ReLU(z) (m×n, ldh; Go's max semantics), bit for bit what copying
// bias into every row of z, l.SgemmThreads(maxThreads, false, true, m, n,
// k, 1, a, lda, b, ldb, 1, z, ldz) and l.ReLU over z's rows give. When the
// product is one packed k-block (k < kcBlock, m, n > 1), which is also when
// that Sgemm forms each element as one accumulation then fl(acc + c), the
// micro-kernel adds the bias to its accumulators and stores both z and the
// ReLU from its registers (edge tiles: the scratch tile, then biasReLU): no
// pass that writes the bias rows, none that reads z again for the ReLU. z
// and h may be the same matrix (nn's ForwardOutputs), which then ends as h.
// Otherwise it does exactly those three steps. The engine's first layer (k =
// the input features) takes the fused path at every batch size above one
// when it has fewer than 256 inputs (the time-to-target models' 16 do).
func (l ISA) SgemmBiasReLU(maxThreads, m, n, k int, a []float32, lda int, b []float32, ldb int, bias, z []float32, ldz int, h []float32, ldh int) {
	l.check()
	l.sgemmBiasReLU(maxThreads, m, n, k, a, lda, b, ldb, nil, bias, z, ldz, h, ldh)
}

// sgemmBiasReLU is SgemmBiasReLU with b's panels taken from pre where the
// product packs them (pre nil: packed per call).
func (l ISA) sgemmBiasReLU(maxThreads, m, n, k int, a []float32, lda int, b []float32, ldb int, pre *PackedB, bias, z []float32, ldz int, h []float32, ldh int) {
	CheckSgemm("asm", false, true, m, n, k, len(a), lda, len(b), ldb, len(z), ldz)
	checkRows("SgemmBiasReLU", m, n, h, ldh)
	if len(bias) < n {
		panic("asm: SgemmBiasReLU bias shorter than n")
	}
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || k >= kcBlock || m == 1 || n == 1 || generalOnly || chosen(nopackFor(l, false, true, m, n, k), l, false, true) != packed {
		for i := 0; i < m; i++ {
			copy(z[i*ldz:i*ldz+n], bias[:n])
		}
		l.sgemm(maxThreads, false, true, m, n, k, 1, a, lda, b, ldb, pre, 1, z, ldz)
		for i := 0; i < m; i++ {
			l.ReLU(z[i*ldz:i*ldz+n], h[i*ldh:i*ldh+n])
		}
		return
	}
	g := gemm{isa: l, nr: tileNR(l), transB: true, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: ldb, beta: 0, c: z, ldc: ldz,
		path: packed, pre: pre, bias: bias, h: h, ldh: ldh}
	g.execute(maxThreads, m, n)
}

// CheckSgemm panics, with a message that starts with who ("asm",
// "kernels", "cuda"), when the shapes of an Sgemm call do not fit its
// buffers: a negative dimension; when m and n are positive, ldc < n or a C
// of lenC elements too short for m rows; and when k is positive too, lda or
// ldb smaller than the row length of A or B as stored, or A (lenA elements)
// or B (lenB) too short for its rows. With m or n zero nothing is read or
// written and only the signs are checked. These are programmer errors. It is
// the one GEMM argument check of every backend (asm.Sgemm, kernels.Generic,
// cuda).
func CheckSgemm(who string, transA, transB bool, m, n, k int, lenA, lda, lenB, ldb, lenC, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(who + ": Sgemm with a negative dimension")
	}
	if m == 0 || n == 0 {
		return
	}
	if ldc < n || lenC < (m-1)*ldc+n {
		panic(who + ": Sgemm C too short for its shape or ldc < n")
	}
	if k == 0 {
		return
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	if lda < ac || ldb < bc {
		panic(who + ": Sgemm leading dimension smaller than row length")
	}
	if lenA < (ar-1)*lda+ac || lenB < (br-1)*ldb+bc {
		panic(who + ": Sgemm buffer too short for its shape")
	}
}

// runParallel splits the product over t goroutines. Rows are split when
// each goroutine gets at least a few register tiles of rows, else columns,
// else fewer goroutines are used; in whole units of the path's tiles. g is
// a copy, so that only this path puts it on the heap.
func (g gemm) runParallel(m, n, t int) {
	mu, nu := mr, g.nr
	if g.path == nopackDot {
		mu, nu = dotUnit, dotUnit
	}
	switch {
	case m >= t*4*mu:
		parallel(t, func(w int) {
			i0, i1 := split(m, t, w, mu)
			g.block(i0, i1, 0, n)
		})
	case n >= t*4*nu:
		parallel(t, func(w int) {
			j0, j1 := split(n, t, w, nu)
			g.block(0, m, j0, j1)
		})
	default:
		t = max(1, min(t, m/mu))
		parallel(t, func(w int) {
			i0, i1 := split(m, t, w, mu)
			g.block(i0, i1, 0, n)
		})
	}
}

// block computes rows [i0, i1) × columns [j0, j1) of C on g's path, with
// one goroutine's scratch.
func (g *gemm) block(i0, i1, j0, j1 int) {
	if i0 >= i1 || j0 >= j1 {
		return
	}
	s := scratchPool.Get().(*gemmScratch)
	defer scratchPool.Put(s)
	raceWriteRows32(i1-i0, j1-j0, g.c[i0*g.ldc+j0:], g.ldc)
	if g.beta != 0 {
		raceReadRows32(i1-i0, j1-j0, g.c[i0*g.ldc+j0:], g.ldc)
	}
	switch g.path {
	case nopackDot:
		g.runDot(s, i0, i1, j0, j1)
	case nopackLdb:
		g.runLdb(s, i0, i1, j0, j1)
	default:
		g.run(s, i0, i1, j0, j1)
	}
}

// split returns part w of t of [0, n) in whole units of unit elements (the
// last part takes the remainder).
func split(n, t, w, unit int) (int, int) {
	units := (n + unit - 1) / unit
	lo := units * w / t * unit
	hi := units * (w + 1) / t * unit
	return min(lo, n), min(hi, n)
}

// parallel runs f(0..t-1) on t goroutines (f(0) on the caller's) and waits.
func parallel(t int, f func(w int)) {
	var wg sync.WaitGroup
	wg.Add(t - 1)
	for w := 1; w < t; w++ {
		go func() {
			defer wg.Done()
			f(w)
		}()
	}
	f(0)
	wg.Wait()
}

// scaleRows sets C = beta·C over m×n (beta == 0 clears without reading).
func scaleRows(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// gemm is one Sgemm call; run computes a block of C.
type gemm struct {
	isa            ISA
	nr             int  // tile width: tileNR(isa)
	narrow12       bool // AVX-512 narrowed to 16 columns: 12×16 zmm tiles
	path           nopackPath
	dotAOuter      bool // dot path: A's rows in the outer loop (m > n)
	transA, transB bool
	k              int
	alpha          float32
	a              []float32
	lda            int
	b              []float32
	ldb            int
	beta           float32
	c              []float32
	ldc            int
	// pre: B already packed (SgemmPacked), read where it fits the path
	// (PackedB.usable); nil: packB per block.
	pre *PackedB
	// bias, h, ldh: SgemmBiasReLU's epilogue (h nil: none); see macro.
	bias, h []float32
	ldh     int
}

// run computes rows [i0, i1) × columns [j0, j1) of C with the Goto loop
// nest: jc (nc columns) → pc (kc depth) → ic (mc rows) → jr (nr) → ir (mr).
func (g *gemm) run(s *gemmScratch, i0, i1, j0, j1 int) {
	prepacked := g.pre.usable(g)
	for jc := j0; jc < j1; jc += ncBlock {
		nb := min(ncBlock, j1-jc)
		nbPad := (nb + g.nr - 1) / g.nr * g.nr
		for pc := 0; pc < g.k; pc += kcBlock {
			kb := min(kcBlock, g.k-pc)
			var bblk []float32
			if prepacked {
				bblk = g.pre.panels(pc, kb, jc, nb)
				raceReadRows32(1, len(bblk), bblk, len(bblk)) // read by the kernels only
			} else {
				s.b = grow(s.b, kb*nbPad)
				g.packB(s.b, pc, kb, jc, nb)
				bblk = s.b
			}
			beta := g.beta
			if pc > 0 {
				beta = 1
			}
			for ic := i0; ic < i1; ic += mcBlock {
				mb := min(mcBlock, i1-ic)
				mbPad := (mb + mr - 1) / mr * mr
				s.a = grow(s.a, kb*mbPad+2) // +2: scratch lanes of packA6
				g.packA(s.a, ic, mb, pc, kb)
				g.macro(s, bblk, kb, ic, mb, jc, nb, beta)
			}
		}
	}
}

// macro multiplies the packed A block (mb rows, in s) by the packed B
// block bblk (nb columns) into C at (ic, jc), one register tile at a time.
func (g *gemm) macro(s *gemmScratch, bblk []float32, kb, ic, mb, jc, nb int, beta float32) {
	ldc, nr := g.ldc, g.nr
	twelve := (g.isa == AVX512 && tile12 || g.narrow12) && g.h == nil
	for jr := 0; jr < nb; jr += nr {
		bp := bblk[jr*kb : jr*kb+kb*nr]
		nt := min(nr, nb-jr)
		for ir := 0; ir < mb; ir += mr {
			off := (ic+ir)*ldc + jc + jr
			if twelve && ir+2*mr <= mb && nt == nr {
				// Two full six-row panels: one 12-row tile.
				sgemmKernel12(nr, kb, s.a[ir*kb:ir*kb+2*kb*mr], bp, g.c[off:off+(2*mr-1)*ldc+nr], ldc, beta)
				ir += mr
				continue
			}
			ap := s.a[ir*kb : ir*kb+kb*mr]
			mt := min(mr, mb-ir)
			if g.h != nil {
				g.biasReLUTile(s, kb, ap, bp, ic+ir, jc+jr, mt, nt)
				continue
			}
			if mt == mr && nt == nr {
				sgemmKernel(g.isa, kb, ap, bp, g.c[off:off+(mr-1)*ldc+nr], ldc, beta)
				continue
			}
			// Edge tile: compute into scratch, merge the valid part.
			sgemmKernel(g.isa, kb, ap, bp, s.tile[:mr*nr], nr, 0)
			for i := 0; i < mt; i++ {
				mergeInto(g.isa, g.c[off+i*ldc:], 1, s.tile[i*nr:i*nr+nt], beta)
			}
		}
	}
}

// biasReLUTile computes the mt × nt tile of C at (i, j) (one k-block: the
// product is final) with SgemmBiasReLU's epilogue: a full tile in the
// micro-kernel's registers, an edge tile through the scratch tile, merged
// and then passed through biasReLU.
func (g *gemm) biasReLUTile(s *gemmScratch, kb int, ap, bp []float32, i, j, mt, nt int) {
	ldc, ldh, nr := g.ldc, g.ldh, g.nr
	off, hoff := i*ldc+j, i*ldh+j
	if mt == mr && nt == nr {
		sgemmKernelBiasReLU(g.isa, kb, ap, bp, g.c[off:off+(mr-1)*ldc+nr], ldc, g.bias[j:j+nr], g.h[hoff:hoff+(mr-1)*ldh+nr], ldh)
		return
	}
	sgemmKernel(g.isa, kb, ap, bp, s.tile[:mr*nr], nr, 0)
	for r := 0; r < mt; r++ {
		mergeInto(g.isa, g.c[off+r*ldc:], 1, s.tile[r*nr:r*nr+nt], 0)
	}
	biasReLU(g.isa, mt, nt, g.c[off:], ldc, g.bias[j:], g.h[hoff:], ldh)
}

// mergeInto sets c[i·inc] = t[i] + beta·c[i·inc] for i < len(t), or t[i]
// without reading c when beta == 0: how edge tiles and the matrix-vector
// path write C (two roundings, where a full tile's kernel fuses them; the
// same for beta 0 and 1). A contiguous row with beta == 1 goes through l's
// Axpy with alpha 1, whose fl(1·t + c) is the loop's fl(t + c), bit for bit
// (NaN payloads aside: which of two NaNs survives an addition depends on the
// operand order the compiler picks, in the loop too); the gradients' m = 1
// and n = 1 products accumulate rows of 1024 so.
func mergeInto(l ISA, c []float32, inc int, t []float32, beta float32) {
	if len(t) == 0 {
		return
	}
	c = c[:(len(t)-1)*inc+1]
	if inc == 1 {
		if beta == 0 {
			copy(c, t)
			return
		}
		if beta == 1 {
			axpy(l, 1, t, c)
			return
		}
		for j, v := range t {
			c[j] = v + beta*c[j]
		}
		return
	}
	for i, v := range t {
		if beta == 0 {
			c[i*inc] = v
			continue
		}
		c[i*inc] = v + beta*c[i*inc]
	}
}

// generalOnly turns the matrix-vector path and the narrow-tile choice off,
// so that tests can compare them with the packed path.
var generalOnly bool

// gemv computes a product with m == 1 or n == 1 without packing: each
// element of C is one FMA chain per kc block (sumRows or rowChains), the
// chain the micro-kernel would run for it in a padded tile, so the result
// is bit-identical to the packed path's (whose tiles are all edge tiles
// here), at a sixteenth (a thirty-second with AVX-512) of the arithmetic
// and without the packing. The training step's output layer (n = 1) and
// its gradient (m = 1) are such products.
func (g *gemm) gemv(m, n int) {
	s := scratchPool.Get().(*gemmScratch)
	defer scratchPool.Put(s)
	raceWriteRows32(m, n, g.c, g.ldc)
	if g.beta != 0 {
		raceReadRows32(m, n, g.c, g.ldc)
	}
	long, inc := n, 1 // C's elements: a row (m == 1) or a column (n == 1)
	if n == 1 {
		long, inc = m, g.ldc
	}
	t := grow(s.b, long)
	s.b = t
	var av [kcBlock]float32
	for pc := 0; pc < g.k; pc += kcBlock {
		kb := min(kcBlock, g.k-pc)
		if n == 1 {
			// s_p = op(B)[pc+p, 0]
			var bs []float32
			incb := 1
			if g.transB {
				bs = g.b[pc:]
			} else {
				bs, incb = g.b[pc*g.ldb:], g.ldb
			}
			if g.transA { // op(A)[i, p] = a[p·lda+i]: row p of A runs over i
				sumRows(g.isa, kb, m, g.alpha, bs, incb, g.a[pc*g.lda:], g.lda, t)
			} else {
				rowChains(g.isa, kb, m, g.alpha, g.a[pc:], g.lda, bs, incb, t)
			}
		} else {
			// av_p = fl(alpha·op(A)[0, pc+p]), as packA stores it.
			for p := range kb {
				if g.transA {
					av[p] = g.alpha * g.a[(pc+p)*g.lda]
				} else {
					av[p] = g.alpha * g.a[pc+p]
				}
			}
			if g.transB { // op(B)[p, j] = b[j·ldb+p]: row j of B runs over p
				rowChains(g.isa, kb, n, 1, g.b[pc:], g.ldb, av[:], 1, t)
			} else {
				sumRows(g.isa, kb, n, 1, av[:], 1, g.b[pc*g.ldb:], g.ldb, t)
			}
		}
		beta := g.beta
		if pc > 0 {
			beta = 1
		}
		mergeInto(g.isa, g.c, inc, t, beta)
	}
}

// packA packs alpha·op(A)[ic:ic+mb, pc:pc+kb] into dst as mr-row panels:
// panel q holds rows ic+q·mr.., element (r, p) at dst[q·mr·kb + p·mr + r];
// rows past mb are zero.
func (g *gemm) packA(dst []float32, ic, mb, pc, kb int) {
	alpha := g.alpha
	a, lda := g.a, g.lda
	q0 := 0
	if g.transA {
		// op(A)[i][p] = a[p*lda+i]: the full panels row by row in one call.
		full := mb / mr
		packAT(g.isa, dst, a[pc*lda+ic:], lda, kb, full, alpha)
		q0 = full * mr
	}
	for q := q0; q < mb; q += mr {
		panel := dst[q*kb : q*kb+kb*mr]
		rows := min(mr, mb-q)
		if !g.transA {
			if rows == mr {
				packA6(g.isa, dst[q*kb:q*kb+kb*mr+2], a[(ic+q)*lda+pc:], lda, kb, alpha)
				continue
			}
			for r := 0; r < mr; r++ {
				if r >= rows {
					for p := 0; p < kb; p++ {
						panel[p*mr+r] = 0
					}
					continue
				}
				src := a[(ic+q+r)*lda+pc : (ic+q+r)*lda+pc+kb]
				for p, v := range src {
					panel[p*mr+r] = alpha * v
				}
			}
			continue
		}
		// The last, partial panel of op(A) = Aᵀ.
		for p := 0; p < kb; p++ {
			src := a[(pc+p)*lda+ic+q : (pc+p)*lda+ic+q+rows]
			d := panel[p*mr : p*mr+mr]
			for r, v := range src {
				d[r] = alpha * v
			}
			clear(d[rows:])
		}
	}
}

// packB packs op(B)[pc:pc+kb, jc:jc+nb] into dst as nr-column panels:
// panel q holds columns jc+q·nr.., element (p, j) at dst[q·kb + p·nr + j];
// columns past nb are zero.
func (g *gemm) packB(dst []float32, pc, kb, jc, nb int) {
	b, ldb, nr := g.b, g.ldb, g.nr
	for q := 0; q < nb; q += nr {
		panel := dst[q*kb : q*kb+kb*nr]
		cols := min(nr, nb-q)
		if !g.transB {
			if cols == nr {
				packBRows(g.isa, panel, b[pc*ldb+jc+q:], ldb, kb)
				continue
			}
			for p := 0; p < kb; p++ {
				d := panel[p*nr : p*nr+nr]
				copy(d, b[(pc+p)*ldb+jc+q:(pc+p)*ldb+jc+q+cols])
				clear(d[cols:])
			}
			continue
		}
		// op(B)[p][j] = b[j*ldb+p]: gather column j from row j of b.
		if cols == nr {
			packBT(g.isa, panel, b[(jc+q)*ldb+pc:], ldb, kb)
			continue
		}
		for j := 0; j < nr; j++ {
			if j >= cols {
				for p := 0; p < kb; p++ {
					panel[p*nr+j] = 0
				}
				continue
			}
			src := b[(jc+q+j)*ldb+pc : (jc+q+j)*ldb+pc+kb]
			for p, v := range src {
				panel[p*nr+j] = v
			}
		}
	}
}
