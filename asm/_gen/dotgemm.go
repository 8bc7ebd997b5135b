package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The NT product without packing ("dot-product" kernel): C[i, j] =
// alpha·Σ_p A[i, p]·B[j, p] + beta·C[i, j] where rows of A and of B are
// both contiguous along p. A register tile of mi rows of A by nj rows of B
// keeps one zmm accumulator per (i, j): per sixteen p, mi + nj zmm loads
// and mi·nj vfmadd231ps; the last kc mod 16 under a k-register mask; the
// sixteen lanes of every accumulator are summed once, at the end.

// dotTile emits sgemmDot{mi}x{nj}AVX512(kc, a, b, c, ldc, alpha, beta,
// pf): a and b point to arrays of mi and nj row pointers (the driver
// repeats the last row for edge tiles), c to the mi×nj tile (leading
// dimension ldc) that it sets to alpha·sum + beta·c (beta == ±0: c not
// read). pf is a row of kc floats to fetch into L2 meanwhile, one line per
// sixteen floats (the driver points it at a row of the next block of the
// operand that streams from memory). nj must be even (groups of four
// columns, then a pair).
func dotTile(mi, nj int) {
	name := "sgemmDot" + itoa(mi) + "x" + itoa(nj) + "AVX512"
	TEXT(name, NOSPLIT, "func(kc int, a *["+itoa(mi)+"]*float32, b *["+itoa(nj)+"]*float32, c *float32, ldc int, alpha, beta float32, pf *float32)")
	Doc(name + " sets the " + itoa(mi) + "×" + itoa(nj) + " tile c to alpha·Σ_p a[i][p]·b[j][p] + beta·c (see dotgemm_amd64.go).")
	n := Load(Param("kc"), GP64())
	k := mod16Mask(n)
	ap := Load(Param("a"), GP64())
	bp := Load(Param("b"), GP64())
	ar := make([]GPVirtual, mi)
	for i := range ar {
		ar[i] = GP64()
		MOVQ(Mem{Base: ap, Disp: 8 * i}, ar[i])
	}
	br := make([]GPVirtual, nj)
	for j := range br {
		br[j] = GP64()
		MOVQ(Mem{Base: bp, Disp: 8 * j}, br[j])
	}
	pf := Load(Param("pf"), GP64())
	idx := GP64()
	XORQ(idx, idx)
	acc := zeroedVecs(zmm, mi, nj)
	av := make([]VecVirtual, mi)
	for i := range av {
		av[i] = ZMM()
	}
	bv := ZMM()
	step := func(mask Op) {
		load := func(base GPVirtual, dst VecVirtual) {
			m := Mem{Base: base, Index: idx, Scale: 1}
			if mask != nil {
				VMOVUPS_Z(m, mask, dst)
				return
			}
			VMOVUPS(m, dst)
		}
		for i := range av {
			load(ar[i], av[i])
		}
		PREFETCHT1(Mem{Base: pf, Index: idx, Scale: 1})
		for j := range br {
			load(br[j], bv)
			for i := range av {
				VFMADD231PS(av[i], bv, acc[i][j])
			}
		}
	}
	Comment("Sixteen floats of every row per trip.")
	Label("loop")
	CMPQ(n, U32(16))
	JL(LabelRef("tail"))
	step(nil)
	ADDQ(U32(64), idx)
	SUBQ(U32(16), n)
	JMP(LabelRef("loop"))

	Label("tail")
	Comment("The last kc mod 16 floats under the mask (1<<n)-1 (lanes past it neither read nor faulted on).")
	TESTQ(n, n)
	JZ(LabelRef("reduce"))
	step(k)

	Label("reduce")
	Comment("Fold every accumulator to four lanes (512 → 256 → 128 bits), in place.")
	// Temporaries: the A and B registers, free now (so that every vector
	// register the kernel writes is one of acc, av, bv, zeroed at the end).
	y, h := av[0].AsY(), av[1].AsX()
	for i := range acc {
		for j := range acc[i] {
			VEXTRACTF64X4(U8(1), acc[i][j], y)
			VADDPS(y, acc[i][j].AsY(), acc[i][j].AsY())
			VEXTRACTF32X4(U8(1), acc[i][j].AsY(), h)
			VADDPS(h, acc[i][j].AsX(), acc[i][j].AsX())
		}
	}
	Comment("Sum the four lanes of columns in groups of four (then a pair), into the group's first register.")
	alpha := av[2].AsX()
	VBROADCASTSS(NewParamAddr("alpha", 40), alpha)
	groups := (nj + 3) / 4
	lo, hi := av[0].AsX(), av[1].AsX()
	// pairSum sets x0 to (x0₀+x0₂, x1₀+x1₂, x0₁+x0₃, x1₁+x1₃).
	pairSum := func(x0, x1 Op) {
		VUNPCKLPS(x1, x0, lo)
		VUNPCKHPS(x1, x0, hi)
		VADDPS(hi, lo, x0)
	}
	sums := make([][]Register, mi)
	for i := range acc {
		sums[i] = make([]Register, groups)
		for g := 0; g < groups; g++ {
			j := 4 * g
			x := func(q int) Register { return acc[i][j+q].AsX() }
			pairSum(x(0), x(1))
			if j+4 <= nj {
				pairSum(x(2), x(3))
				VSHUFPS(U8(0x44), x(2), x(0), lo)
				VSHUFPS(U8(0xEE), x(2), x(0), hi)
			} else {
				VMOVAPS(x(0), lo)
				VSHUFPS(U8(0xEE), x(0), x(0), hi)
			}
			VADDPS(hi, lo, x(0))
			VMULPS(alpha, x(0), x(0))
			sums[i][g] = x(0)
		}
	}
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	betaBits := GP32()
	MOVL(NewParamAddr("beta", 44), betaBits)
	TESTL(U32(0x7fffffff), betaBits)
	JNZ(LabelRef("accumulate"))
	Comment("beta == ±0: store without reading C.")
	{
		cp := GP64()
		MOVQ(c, cp)
		for i := range sums {
			for g, s := range sums[i] {
				m := Mem{Base: cp, Disp: 16 * g}
				if 4*g+4 <= nj {
					VMOVUPS(s, m)
				} else {
					VMOVSD(s, m)
				}
			}
			ADDQ(ldc, cp)
		}
	}
	JMP(LabelRef("done"))

	Label("accumulate")
	beta := av[3].AsX()
	VBROADCASTSS(NewParamAddr("beta", 44), beta)
	for i := range sums {
		for g, s := range sums[i] {
			m := Mem{Base: c, Disp: 16 * g}
			if 4*g+4 <= nj {
				VFMADD231PS(m, beta, s)
				VMOVUPS(s, m)
			} else {
				t := bv.AsX()
				VMOVSD(m, t)
				VFMADD231PS(t, beta, s)
				VMOVSD(s, m)
			}
		}
		ADDQ(ldc, c)
	}

	Label("done")
	clean(acc, []VecVirtual{bv}, av...)
	RET()
}
