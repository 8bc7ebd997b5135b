package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The matrix-vector kernels of the GEMM driver (a product with n == 1 or
// m == 1). Each output element is one chain of fused multiply-adds over p,
// from zero, in the order of the micro-kernel's column: out = Σ_p
// fl(alpha·x_p)·s_p, one rounding per step, so the driver's results are
// bit-identical to the packed path's (where alpha is applied while packing).

// sumRowsKernel emits sumRows{AVX2,AVX512}: out[j] = Σ_{p<kb}
// fl(alpha·x[p·ldx+j])·s[p·incs] for j < n, vectorised over j (four
// vectors, then one, then a scalar loop for the last n mod lanes).
func sumRowsKernel(w width) {
	name := "sumRows" + w.suffix()
	TEXT(name, NOSPLIT, "func(kb, n int, alpha float32, s *float32, incs int, x *float32, ldx int, out *float32)")
	Doc(name + " sets out[j] = Σ_p fl(alpha·x[p·ldx+j])·s[p·incs] (one FMA chain per j; see gemv_amd64.go).")
	kb := Load(Param("kb"), GP64())
	n := Load(Param("n"), GP64())
	alpha := w.vec()
	VBROADCASTSS(NewParamAddr("alpha", 16), alpha)
	s := Load(Param("s"), GP64())
	incs := Load(Param("incs"), GP64())
	SHLQ(U8(2), incs)
	x := Load(Param("x"), GP64())
	ldx := Load(Param("ldx"), GP64())
	SHLQ(U8(2), ldx)
	out := Load(Param("out"), GP64())
	floats := int(w) / 4

	block := func(vecs int, label string) {
		next := label + "done"
		Label(label)
		CMPQ(n, U32(vecs*floats))
		JL(LabelRef(next))
		acc := make([]VecVirtual, vecs)
		for u := range acc {
			acc[u] = w.vec()
			VXORPS(acc[u], acc[u], acc[u])
		}
		sp, xp, cnt := GP64(), GP64(), GP64()
		MOVQ(s, sp)
		MOVQ(x, xp)
		MOVQ(kb, cnt)
		Label(label + "p")
		bs := w.vec()
		VBROADCASTSS(Mem{Base: sp}, bs)
		for u := range acc {
			v := w.vec()
			VMULPS(Mem{Base: xp, Disp: u * int(w)}, alpha, v)
			VFMADD231PS(v, bs, acc[u])
		}
		ADDQ(incs, sp)
		ADDQ(ldx, xp)
		DECQ(cnt)
		JNZ(LabelRef(label + "p"))
		for u := range acc {
			VMOVUPS(acc[u], Mem{Base: out, Disp: u * int(w)})
		}
		ADDQ(U32(4*vecs*floats), x)
		ADDQ(U32(4*vecs*floats), out)
		SUBQ(U32(vecs*floats), n)
		JMP(LabelRef(label))
		Label(next)
	}
	block(4, "block4")
	block(1, "block1")

	Comment("The last n mod lanes elements, one scalar chain each.")
	Label("tail")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	acc := XMM()
	VXORPS(acc, acc, acc)
	sp, xp, cnt := GP64(), GP64(), GP64()
	MOVQ(s, sp)
	MOVQ(x, xp)
	MOVQ(kb, cnt)
	Label("tailp")
	t := XMM()
	VMULSS(Mem{Base: xp}, alpha.AsX(), t)
	VFMADD231SS(Mem{Base: sp}, t, acc)
	ADDQ(incs, sp)
	ADDQ(ldx, xp)
	DECQ(cnt)
	JNZ(LabelRef("tailp"))
	VMOVSS(acc, Mem{Base: out})
	ADDQ(U32(4), x)
	ADDQ(U32(4), out)
	DECQ(n)
	JMP(LabelRef("tail"))

	Label("done")
	VZEROUPPER()
	RET()
}

// rowChainsKernel emits rowChainsFMA (scaled) or rowChains1FMA (alpha = 1,
// the product read straight from memory): out[r] = Σ_{p<kb}
// fl(alpha·a[r·lda+p])·s[p·incs] for r < rows, eight independent scalar
// chains at a time (the rows are strided, so a lane-wise vector would need a
// transpose; eight chains keep both FMA ports busy). Only VEX.128 scalar
// instructions: the upper register state stays clean.
func rowChainsKernel(scaled bool) {
	kb, rows := rowChainsText(scaled, "rowChainsFMA", "rowChains1FMA", " (one FMA chain per row; see gemv_amd64.go).")
	alpha := XMM()
	if scaled {
		VMOVSS(NewParamAddr("alpha", 16), alpha)
	}
	a, lda, lda3, s, incs, out := rowChainsArgs()

	chains := func(nrows int, label string) {
		next := label + "done"
		Label(label)
		CMPQ(rows, U32(nrows))
		JL(LabelRef(next))
		acc := make([]VecVirtual, nrows)
		for r := range acc {
			acc[r] = XMM()
			VXORPS(acc[r], acc[r], acc[r])
		}
		r0, r4, sp, cnt := GP64(), GP64(), GP64(), GP64()
		MOVQ(a, r0)
		if nrows > 4 {
			LEAQ(Mem{Base: a, Index: lda, Scale: 4}, r4)
		}
		MOVQ(s, sp)
		MOVQ(kb, cnt)
		Label(label + "p")
		sv := XMM()
		VMOVSS(Mem{Base: sp}, sv)
		for r := range acc {
			base := r0
			if r >= 4 {
				base = r4
			}
			m := rowOfFour(base, lda, lda3, r%4)
			if scaled {
				t := XMM()
				VMULSS(m, alpha, t)
				VFMADD231SS(sv, t, acc[r])
			} else {
				VFMADD231SS(m, sv, acc[r])
			}
		}
		ADDQ(U32(4), r0)
		if nrows > 4 {
			ADDQ(U32(4), r4)
		}
		ADDQ(incs, sp)
		DECQ(cnt)
		JNZ(LabelRef(label + "p"))
		for r := range acc {
			VMOVSS(acc[r], Mem{Base: out, Disp: 4 * r})
		}
		ADDQ(U32(4*nrows), out)
		step := GP64()
		MOVQ(lda, step)
		SHLQ(U8(nrowsShift(nrows)), step)
		ADDQ(step, a)
		SUBQ(U32(nrows), rows)
		JMP(LabelRef(label))
		Label(next)
	}
	chains(8, "rows8")
	chains(1, "rows1")
	RET()
}

func nrowsShift(n int) int {
	s := 0
	for 1<<s < n {
		s++
	}
	return s
}

// rowChains16Kernel emits rowChainsAVX512 (scaled) or rowChains1AVX512
// (alpha = 1): rowChainsKernel's chains with sixteen rows in the lanes of
// one zmm register. Per sixteen p the sixteen rows' floats are loaded and
// transposed in registers (vunpcklps/vunpckhps, vshufps, then two rounds
// of vshuff32x4 on 128-bit blocks: 64 shuffles), and the sixteen columns
// go through one vfmadd231ps each, in the order of p, so that every lane
// runs the scalar kernel's chain: the same roundings, at a quarter of its
// instructions per element. The last kb mod 16 floats of each row load
// under a mask. rows is a multiple of 16 (the Go wrapper runs the scalar
// kernel on the rest).
//
// The vector registers are assigned by hand (the transpose needs more than
// sixteen live, and every register 16–31 written must be zeroed before
// RET, which virtual registers would leave unknown): row r loads into Zr,
// four rows at a time, unpacked into Z16–Z19 and shuffled back as the
// 4-row columns; the block transposes use Z16–Z19 and leave column j in Zj;
// Z20 holds the broadcast s, Z21 the chains, Z22 alpha.
func rowChains16Kernel(scaled bool) {
	kb, rows := rowChainsText(scaled, "rowChainsAVX512", "rowChains1AVX512", ", sixteen rows per zmm (one FMA chain per lane; see gemv_amd64.go).")
	z := []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
		Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}
	sv, acc, alpha := z[20], z[21], z[22]
	if scaled {
		VBROADCASTSS(NewParamAddr("alpha", 16), alpha)
	}
	a, lda, lda3, s, incs, out := rowChainsArgs()
	k := mod16Mask(kb)

	var base []GPVirtual
	var sp GPVirtual
	rowAt := func(r int) Mem { return rowOfFour(base[r/4], lda, lda3, r%4) }
	// transpose loads sixteen floats of each row (under mask, if any) and
	// leaves column j (lane r: row r's float p+j) in Zj.
	transpose := func(mask Op) {
		tmp := z[16:20]
		for g := 0; g < 4; g++ {
			for r := 4 * g; r < 4*g+4; r++ {
				switch {
				case mask != nil:
					VMOVUPS_Z(rowAt(r), mask, z[r])
					if scaled {
						VMULPS(alpha, z[r], z[r])
					}
				case scaled:
					VMULPS(rowAt(r), alpha, z[r])
				default:
					VMOVUPS(rowAt(r), z[r])
				}
			}
			v := z[4*g : 4*g+4]
			for i := 0; i < 2; i++ {
				VUNPCKLPS(v[2*i+1], v[2*i], tmp[2*i])
				VUNPCKHPS(v[2*i+1], v[2*i], tmp[2*i+1])
			}
			// u[4g+c] = Z(4g+c): in 128-bit block L, column 4L+c of rows
			// 4g..4g+3.
			for h := 0; h < 2; h++ {
				VSHUFPS(U8(0x44), tmp[2+h], tmp[h], v[2*h])
				VSHUFPS(U8(0xEE), tmp[2+h], tmp[h], v[2*h+1])
			}
		}
		u := z[:16]
		// For each c, the 4×4 matrix of 128-bit blocks (row group g, block
		// L) of u[c], u[4+c], u[8+c], u[12+c], transposed through w:
		// column 4L+c into the register of u[4L+c], consumed by then.
		w := z[16:20]
		for c := 0; c < 4; c++ {
			VSHUFF32X4(U8(0x44), u[4+c], u[c], w[0])
			VSHUFF32X4(U8(0xEE), u[4+c], u[c], w[1])
			VSHUFF32X4(U8(0x44), u[12+c], u[8+c], w[2])
			VSHUFF32X4(U8(0xEE), u[12+c], u[8+c], w[3])
			for L := 0; L < 4; L++ {
				imm := U8(0x88)
				if L%2 == 1 {
					imm = U8(0xDD)
				}
				VSHUFF32X4(imm, w[2+L/2], w[L/2], z[4*L+c])
			}
		}
	}
	fma := func(j int) {
		VBROADCASTSS(Mem{Base: sp}, sv)
		VFMADD231PS(sv, z[j], acc)
		ADDQ(incs, sp)
	}

	chainLoops(16, acc, kb, rows, a, lda, s, out, func(l chainLoop) {
		base, sp = l.base, l.sp
		transpose(nil)
		for j := 0; j < 16; j++ {
			fma(j)
		}
	}, func(l chainLoop) {
		base, sp = l.base, l.sp
		transpose(k)
		for j := 0; j < 15; j++ {
			fma(j)
			if j < 14 {
				CMPQ(l.cnt, U32(j+2))
				JL(LabelRef("store"))
			}
		}
	})

	Label("done")
	Comment("Registers 16–22 written here: zeroed (VZEROUPPER leaves them).")
	for _, r := range z[16:23] {
		x := r.AsX()
		VPXORD(x, x, x)
	}
	VZEROUPPER()
	RET()
}

// rowChainsArgs loads the row-chain kernels' pointer and stride arguments:
// a, lda and 3·lda in bytes, s, incs in bytes, out.
func rowChainsArgs() (a, lda, lda3, s, incs, out GPVirtual) {
	a = Load(Param("a"), GP64()).(GPVirtual)
	lda = Load(Param("lda"), GP64()).(GPVirtual)
	SHLQ(U8(2), lda)
	lda3 = GP64()
	LEAQ(Mem{Base: lda, Index: lda, Scale: 2}, lda3)
	s = Load(Param("s"), GP64()).(GPVirtual)
	incs = Load(Param("incs"), GP64()).(GPVirtual)
	SHLQ(U8(2), incs)
	out = Load(Param("out"), GP64()).(GPVirtual)
	return
}

// rowOfFour is the address of row i (0..3) of a group of four rows at base,
// lda bytes apart (lda3 = 3·lda).
func rowOfFour(base, lda, lda3 Register, i int) Mem {
	switch i {
	case 1:
		return Mem{Base: base, Index: lda, Scale: 1}
	case 2:
		return Mem{Base: base, Index: lda, Scale: 2}
	case 3:
		return Mem{Base: base, Index: lda3, Scale: 1}
	}
	return Mem{Base: base}
}

// rowChains8Kernel emits rowChainsAVX2 (scaled) or rowChains1AVX2 (alpha =
// 1): the AVX2 form of rowChains16Kernel, eight rows in the lanes of one ymm
// register. Per eight p the rows' floats go through an 8×8 transpose in
// registers (packBT's steps: vunpcklps/vunpckhps, vshufps on rows 0–3 and
// 4–7, then vperm2f128: 24 shuffles), and the eight columns through one
// vfmadd231ps each in the order of p, each lane the scalar kernel's chain.
// The last kb mod 8 floats of each row load under a vmaskmovps mask from a
// table. rows is a multiple of 8 (the Go wrapper runs the scalar kernel on
// the rest).
func rowChains8Kernel(scaled bool) {
	kb, rows := rowChainsText(scaled, "rowChainsAVX2", "rowChains1AVX2", ", eight rows per ymm (one FMA chain per lane; see gemv_amd64.go).")
	var alpha VecVirtual
	if scaled {
		alpha = YMM()
		VBROADCASTSS(NewParamAddr("alpha", 16), alpha)
	}
	a, lda, lda3, s, incs, out := rowChainsArgs()
	Comment("msk: the first kb mod 8 lanes, from the table chainLanes.")
	msk := YMM()
	{
		sel, rem := GP64(), GP64()
		MOVQ(kb, rem)
		ANDQ(U32(7), rem)
		SHLQ(U8(2), rem)
		LEAQ(laneMasks("chainLanes").Offset(32), sel)
		SUBQ(rem, sel)
		VMOVUPS(Mem{Base: sel}, msk)
	}

	acc := YMM()
	var base []GPVirtual
	var sp GPVirtual
	// load reads eight floats of row r (under the tail mask, if any).
	load := func(r int, masked bool) VecVirtual {
		v := YMM()
		m := rowOfFour(base[r/4], lda, lda3, r%4)
		switch {
		case masked:
			VMASKMOVPS(m, msk, v)
			if scaled {
				VMULPS(alpha, v, v)
			}
		case scaled:
			VMULPS(m, alpha, v)
		default:
			VMOVUPS(m, v)
		}
		return v
	}
	fma := func(c VecVirtual) {
		sv := YMM()
		VBROADCASTSS(Mem{Base: sp}, sv)
		VFMADD231PS(sv, c, acc)
		ADDQ(incs, sp)
	}
	// columns transposes the eight rows' eight floats and runs the chains
	// over the first n columns (all eight: n < 0), in the order of p.
	columns := func(masked bool, n func(j int)) {
		var half [2][]VecVirtual
		for g := 0; g < 2; g++ {
			v := make([]VecVirtual, 4)
			for i := range v {
				v[i] = load(4*g+i, masked)
			}
			// half[g][c]: column c of rows 4g..4g+3 in the low 128
			// bits, column c+4 in the high.
			half[g] = gather4(interleave(v))
		}
		for hi := 0; hi < 2; hi++ {
			imm := U8(0x20)
			if hi == 1 {
				imm = U8(0x31)
			}
			for c := 0; c < 4; c++ {
				col := YMM()
				VPERM2F128(imm, half[1][c], half[0][c], col)
				fma(col)
				n(4*hi + c)
			}
		}
	}

	chainLoops(8, acc, kb, rows, a, lda, s, out, func(l chainLoop) {
		base, sp = l.base, l.sp
		columns(false, func(int) {})
	}, func(l chainLoop) {
		base, sp = l.base, l.sp
		columns(true, func(j int) {
			switch {
			case j < 6:
				CMPQ(l.cnt, U32(j+2))
				JL(LabelRef("store"))
			case j == 6:
				JMP(LabelRef("store")) // at most seven: the eighth column is a masked-out zero
			}
		})
	})

	Label("done")
	VZEROUPPER()
	RET()
}

// chainLoop is what the bodies of chainLoops see: the four-row groups'
// pointers (rows 4g..4g+3 at base[g] + {0, 1, 2, 3}·lda, advanced by the
// loop), s's current element and the columns left in the row block.
type chainLoop struct {
	base    []GPVirtual
	sp, cnt GPVirtual
}

// chainLoops emits the loops shared by the vector row-chain kernels: blocks
// of lanes rows (acc zeroed, then stored to out), each over kb in trips of
// lanes columns (full) and the last kb mod lanes (tail, which may branch to
// "store" once done); it ends by jumping to "done" when fewer than lanes
// rows are left, a label the caller emits.
func chainLoops(lanes int, acc, kb, rows Register, a, lda, s, out GPVirtual, full, tail func(chainLoop)) {
	Label("block")
	CMPQ(rows, U32(lanes))
	JL(LabelRef("done"))
	VXORPS(acc, acc, acc)
	l := chainLoop{base: make([]GPVirtual, lanes/4), sp: GP64(), cnt: GP64()}
	for g := range l.base {
		l.base[g] = GP64()
		if g == 0 {
			MOVQ(a, l.base[g])
			continue
		}
		LEAQ(Mem{Base: l.base[g-1], Index: lda, Scale: 4}, l.base[g])
	}
	MOVQ(s, l.sp)
	MOVQ(kb, l.cnt)

	Label("trip")
	CMPQ(l.cnt, U32(lanes))
	JL(LabelRef("ptail"))
	full(l)
	for _, b := range l.base {
		ADDQ(U32(4*lanes), b)
	}
	SUBQ(U32(lanes), l.cnt)
	JMP(LabelRef("trip"))

	Label("ptail")
	Comment("The last kb mod " + itoa(lanes) + " columns: cnt of them, one compare each.")
	TESTQ(l.cnt, l.cnt)
	JZ(LabelRef("store"))
	tail(l)

	Label("store")
	VMOVUPS(acc, Mem{Base: out})
	ADDQ(U32(4*lanes), out)
	step := GP64()
	MOVQ(lda, step)
	SHLQ(U8(nrowsShift(lanes)), step)
	ADDQ(step, a)
	SUBQ(U32(lanes), rows)
	JMP(LabelRef("block"))
}

// rowChainsText starts a row-chain kernel, named scaledName or, for alpha =
// 1, plainName (how: the tail of its doc line), and loads kb and rows.
func rowChainsText(scaled bool, scaledName, plainName, how string) (kb, rows Register) {
	name := plainName
	if scaled {
		name = scaledName
	}
	TEXT(name, NOSPLIT, "func(kb, rows int, alpha float32, a *float32, lda int, s *float32, incs int, out *float32)")
	Doc(name + " sets out[r] = Σ_p fl(alpha·a[r·lda+p])·s[p·incs]" + how)
	return Load(Param("kb"), GP64()), Load(Param("rows"), GP64())
}
