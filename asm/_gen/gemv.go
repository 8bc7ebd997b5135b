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
	name := "rowChains1FMA"
	if scaled {
		name = "rowChainsFMA"
	}
	TEXT(name, NOSPLIT, "func(kb, rows int, alpha float32, a *float32, lda int, s *float32, incs int, out *float32)")
	Doc(name + " sets out[r] = Σ_p fl(alpha·a[r·lda+p])·s[p·incs] (one FMA chain per row; see gemv_amd64.go).")
	kb := Load(Param("kb"), GP64())
	rows := Load(Param("rows"), GP64())
	alpha := XMM()
	if scaled {
		VMOVSS(NewParamAddr("alpha", 16), alpha)
	}
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	SHLQ(U8(2), lda)
	lda3 := GP64()
	LEAQ(Mem{Base: lda, Index: lda, Scale: 2}, lda3)
	s := Load(Param("s"), GP64())
	incs := Load(Param("incs"), GP64())
	SHLQ(U8(2), incs)
	out := Load(Param("out"), GP64())

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
			var m Mem
			switch r % 4 {
			case 0:
				m = Mem{Base: base}
			case 1:
				m = Mem{Base: base, Index: lda, Scale: 1}
			case 2:
				m = Mem{Base: base, Index: lda, Scale: 2}
			case 3:
				m = Mem{Base: base, Index: lda3, Scale: 1}
			}
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
