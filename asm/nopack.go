package asm

// The paths of Sgemm that do not pack the large operand. At the engine's
// small-m shapes the packed driver spends much of its time copying the big
// operand into panels that are then used only m/6 times; these paths read
// it in place.
//
//   - dot (NT: C = A·Bᵀ, rows of A and of B both contiguous along k): a
//     register tile of 4 rows of A × 6 rows of B (or 6 × 4) with one zmm
//     accumulator per element of C, lanes added once per k block (dotKC).
//     The operand with more rows is walked in the outer loop, once; the
//     other one's k block stays in L2 and is read once per outer tile.
//     Summation order: sixteen lanes, then a fixed tree; so not
//     bit-identical to the packed path, but the same for every split over
//     goroutines (splits are whole multiples of dotUnit).
//   - ldb (NN: B rows read in place, stride ldb): alpha·A packed as the
//     packed path packs it, then 12×32 / 6×32 tiles whose B rows come
//     straight from the matrix, and 1..5-row tiles for the last rows of C
//     (beta 0 or 1; else the packed path's scratch tile and merge). The
//     same FMA chain per element as the packed tiles and the same update:
//     bit-identical to it.
//
// Both run on the AVX-512 level only (nopackFor); the choice depends on
// the shape and the level alone, never on timing.

// dotKC is the k block of the dot path: the 6 rows × dotKC floats of the
// operand held in the inner loop take 24 KiB (L1), the min(m, n) × dotKC
// block of the other ≤ 1 MiB at the shapes it is chosen for (L2).
const dotKC = 1024

// dotUnit is the split unit of the dot path over goroutines, in rows and
// columns of C: a multiple of both tile sides (4 and 6), so that every
// element is in the same kind of tile (full or edge) whatever the split.
const dotUnit = 12

// nopackPath names the paths; nopackForce overrides the shape rule in tests
// and benchmarks (nopackAuto: the rule).
type nopackPath int8

const (
	nopackAuto nopackPath = iota - 1
	packed
	nopackDot
	nopackLdb
)

var nopackForce = nopackAuto

// nopackFor returns the path for a product of this shape on level l: the
// rule measured on Intel family 6 model 0xCF (asm/PERF.md).
func nopackFor(l ISA, transA, transB bool, m, n, k int) nopackPath {
	if l != AVX512 || generalOnly || transA {
		return packed
	}
	switch {
	case transB && dotPays(m, n, k):
		return nopackDot
	case !transB && ldbPays(m, n, k):
		return nopackLdb
	}
	return packed
}

// dotPays: NT products with few rows of C (the training step's forward at
// batch 32) and a long k to amortise the lane sums. Not where both sides
// have ≥ 128 rows (the rehash's products), nor SRP's tall A against 128
// rows of B: there the packed path was as fast or faster (PERF.md).
func dotPays(m, n, k int) bool { return m <= 64 && n >= 128 && k >= 256 }

// ldbPays: NN products with few rows of C, where packing B costs more than
// the arithmetic it feeds.
func ldbPays(m, n, k int) bool { return m <= 64 && n >= nr512 && k >= 16 }

// chosen applies nopackForce to the rule's choice: a forced path is used
// where the transposes allow it (dot: NT on any level; ldb: NN on AVX-512).
func chosen(auto nopackPath, l ISA, transA, transB bool) nopackPath {
	switch nopackForce {
	case nopackAuto:
		return auto
	case nopackDot:
		if !transA && transB {
			return nopackDot
		}
	case nopackLdb:
		if !transA && !transB && l == AVX512 {
			return nopackLdb
		}
	}
	return packed
}

// runDot is the dot path over one block of C.
func (g *gemm) runDot(s *gemmScratch, i0, i1, j0, j1 int) {
	for pc := 0; pc < g.k; pc += dotKC {
		kb := min(dotKC, g.k-pc)
		beta := g.beta
		if pc > 0 {
			beta = 1
		}
		raceReadRows32(i1-i0, kb, g.a[i0*g.lda+pc:], g.lda)
		raceReadRows32(j1-j0, kb, g.b[j0*g.ldb+pc:], g.ldb)
		if g.dotAOuter {
			for ib := i0; ib < i1; ib += 6 {
				for jb := j0; jb < j1; jb += 4 {
					g.dotTile(s, 6, 4, ib, i0, i1, jb, j0, j1, pc, kb, beta)
				}
			}
			continue
		}
		for jb := j0; jb < j1; jb += 6 {
			for ib := i0; ib < i1; ib += 4 {
				g.dotTile(s, 4, 6, ib, i0, i1, jb, j0, j1, pc, kb, beta)
			}
		}
	}
}

// dotTile computes the mi×nj tile of C at (ib, jb) over k block [pc,
// pc+kb): in place when it is whole, else (rows past i1 or columns past
// j1 read as repeats of the last) into the scratch tile, merged like the
// packed path's edge tiles. The first tiles of each inner loop fetch the
// next block of the outer operand (row t of it in tile t) into L2.
func (g *gemm) dotTile(s *gemmScratch, mi, nj, ib, i0, i1, jb, j0, j1, pc, kb int, beta float32) {
	var ra, rb [6][]float32
	for r := range mi {
		i := min(ib+r, i1-1)
		ra[r] = g.a[i*g.lda+pc : i*g.lda+pc+kb]
	}
	for r := range nj {
		j := min(jb+r, j1-1)
		rb[r] = g.b[j*g.ldb+pc : j*g.ldb+pc+kb]
	}
	pf := ra[0]
	if g.dotAOuter {
		if t := (jb - j0) / nj; t < mi && ib+mi+t < i1 {
			pf = g.a[(ib+mi+t)*g.lda+pc:]
		}
	} else if t := (ib - i0) / mi; t < nj && jb+nj+t < j1 {
		pf = g.b[(jb+nj+t)*g.ldb+pc:]
	}
	mt, nt := min(mi, i1-ib), min(nj, j1-jb)
	off := ib*g.ldc + jb
	if mt == mi && nt == nj {
		dotKernel(g.isa, kb, ra[:mi], rb[:nj], g.c[off:off+(mi-1)*g.ldc+nj], g.ldc, g.alpha, beta, pf)
		return
	}
	t := s.tile[:mi*nj]
	dotKernel(g.isa, kb, ra[:mi], rb[:nj], t, nj, g.alpha, 0, pf)
	for i := range mt {
		mergeInto(g.isa, g.c[off+i*g.ldc:], 1, t[i*nj:i*nj+nt], beta)
	}
}

// runLdb is the NN path over one block of C: per kc block, A's rows
// [i0, i1) packed (alpha applied) once, then each 32 columns of B read in
// place by 12- and 6-row tiles; a last partial column panel is packed and
// goes through the packed path's macro, as does nothing else.
func (g *gemm) runLdb(s *gemmScratch, i0, i1, j0, j1 int) {
	mb := i1 - i0
	mbPad := (mb + mr - 1) / mr * mr
	for pc := 0; pc < g.k; pc += kcBlock {
		kb := min(kcBlock, g.k-pc)
		beta := g.beta
		if pc > 0 {
			beta = 1
		}
		s.a = grow(s.a, kb*mbPad+2) // +2: scratch lanes of packA6
		g.packA(s.a, i0, mb, pc, kb)
		raceReadRows32(kb, j1-j0, g.b[pc*g.ldb+j0:], g.ldb)
		for jr := j0; jr < j1; jr += nr512 {
			if j1-jr < nr512 {
				s.b = grow(s.b, kb*nr512)
				g.packB(s.b, pc, kb, jr, j1-jr)
				g.macro(s, s.b, kb, i0, mb, jr, j1-jr, beta)
				break
			}
			bp := g.b[pc*g.ldb+jr:]
			for ir := 0; ir < mb; ir += mr {
				off := (i0+ir)*g.ldc + jr
				rows := mr
				if ir+2*mr <= mb {
					rows = 2 * mr
				}
				if ir+rows <= mb {
					ldbKernel(g.isa, rows, kb, s.a[ir*kb:], bp, g.ldb, g.c[off:], g.ldc, beta)
					ir += rows - mr
					continue
				}
				if beta == 0 || beta == 1 {
					// The last rows in place: the same bits as the
					// merge below (an update by 0 or 1 rounds once
					// either way).
					ldbKernel(g.isa, mb-ir, kb, s.a[ir*kb:], bp, g.ldb, g.c[off:], g.ldc, beta)
					break
				}
				ldbKernel(g.isa, mr, kb, s.a[ir*kb:], bp, g.ldb, s.tile[:mr*nr512], nr512, 0)
				for i := range mb - ir {
					mergeInto(g.isa, g.c[off+i*g.ldc:], 1, s.tile[i*nr512:i*nr512+nr512], beta)
				}
			}
		}
	}
}
