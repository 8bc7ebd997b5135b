package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// packA6 emits packA6AVX2: six rows of kb floats at a (row stride lda
// floats), scaled by alpha, into panel[p*6+r]. Eight columns at a time
// the six rows are loaded scaled (vmulps), transposed in registers with
// the steps of packBT (rows 0..3) plus a vshufps that moves rows 4, 5 of
// the odd columns down, and stored as eight 32-byte stores 24 bytes apart
// in increasing order, each overwriting the two junk lanes of the one
// before (the last one's junk lands in panel[kb*6 : kb*6+2]); the last
// kb mod 8 columns go one float per row.
func packA6() {
	alpha := YMM()
	kb, a, lda, dst := packAText("packA6AVX2", "six rows of kb floats of a, scaled by alpha, into panel[p*6+r] (see packa_amd64.go)", alpha)
	addr := strided(lda, tileM)

	columns(kb, func() {
		v := make([]VecVirtual, tileM)
		for r := range v {
			v[r] = YMM()
			VMULPS(addr(a, r), alpha, v[r])
		}
		t := interleave(v)
		s := gather4(t[:4])
		Comment("rows45[c]: rows 4, 5 of column c (|c+4) at the bottom of each half.")
		odd4, odd5 := YMM(), YMM()
		VSHUFPS(U8(0xEE), t[4], t[4], odd4)
		VSHUFPS(U8(0xEE), t[5], t[5], odd5)
		rows45 := []VecVirtual{t[4], odd4, t[5], odd5}
		Comment("Column c: rows 0..3, then rows 4, 5 and two junk lanes.")
		var hi [4]VecVirtual
		for c := 0; c < 4; c++ {
			lo := YMM()
			hi[c] = YMM()
			VPERM2F128(U8(0x20), rows45[c], s[c], lo)
			VPERM2F128(U8(0x31), rows45[c], s[c], hi[c])
			VMOVUPS(lo, dst.Offset(4*tileM*c))
		}
		for c := 0; c < 4; c++ {
			VMOVUPS(hi[c], dst.Offset(4*tileM*(c+4)))
		}
	}, func() {
		for r := 0; r < tileM; r++ {
			x := XMM()
			VMULSS(addr(a, r), alpha.AsX(), x)
			VMOVSS(x, dst.Offset(4*r))
		}
	}, func(cols int) {
		ADDQ(U32(4*cols), a)
		ADDQ(U32(4*tileM*cols), dst.Base)
	})
}

// packAT emits packATAVX2: panels adjacent six-column panels of op(A) =
// Aᵀ from kb rows of a (row stride lda floats), scaled by alpha: row p's six
// floats of panel q to dst[q·kb·6 + p·6 :], one 16-byte and one 8-byte load
// and store each. Row by row, every panel of a row before the next row: the
// reads run along a's rows (the hardware prefetchers follow them; rows 4 KiB
// apart read six floats at a time would each miss L1, all in the same set),
// and the writes go to panels·kb·6 floats that stay in L1. It uses xmm
// registers only (VEX.128 zeroes the upper halves), so it needs no
// VZEROUPPER.
func packAT() {
	name := "packATAVX2"
	TEXT(name, NOSPLIT, "func(kb int, a *float32, lda int, alpha float32, panels int, dst *float32)")
	Doc(name + " packs panels six-column panels of Aᵀ from kb rows of a, scaled by alpha, panel q's row p at dst[q·kb·6 + p·6] (see packat_amd64.go).")
	kb := Load(Param("kb"), GP64())
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	SHLQ(U8(2), lda)
	alpha := XMM()
	VBROADCASTSS(NewParamAddr("alpha", 24), alpha)
	panels := Load(Param("panels"), GP64())
	dst := Load(Param("dst"), GP64())
	Comment("pstride: the bytes of one panel, kb·6 floats.")
	pstride := GP64()
	IMUL3Q(U32(4*tileM), kb, pstride)
	src, d, n := GP64(), GP64(), GP64()

	Label("row")
	TESTQ(kb, kb)
	JZ(LabelRef("done"))
	MOVQ(a, src)
	MOVQ(dst, d)
	MOVQ(panels, n)
	Label("panel")
	lo, hi := XMM(), XMM()
	VMULPS(Mem{Base: src}, alpha, lo)
	VMOVSD(Mem{Base: src, Disp: 16}, hi)
	VMULPS(hi, alpha, hi)
	VMOVUPS(lo, Mem{Base: d})
	VMOVSD(hi, Mem{Base: d, Disp: 16})
	ADDQ(U32(4*tileM), src)
	ADDQ(pstride, d)
	DECQ(n)
	JNZ(LabelRef("panel"))
	ADDQ(lda, a)
	ADDQ(U32(4*tileM), dst)
	DECQ(kb)
	JMP(LabelRef("row"))

	Label("done")
	RET()
}

// packAText starts the A packer name (doc: what it packs) and loads its
// arguments: kb, a, lda in bytes, alpha broadcast into the register alpha,
// and the panel.
func packAText(name, doc string, alpha VecVirtual) (kb, a, lda Register, dst Mem) {
	TEXT(name, NOSPLIT, "func(kb int, a *float32, lda int, alpha float32, panel *float32)")
	Doc(name + " packs " + doc + ".")
	kb = Load(Param("kb"), GP64())
	a = Load(Param("a"), GP64())
	lda = Load(Param("lda"), GP64())
	SHLQ(U8(2), lda)
	VBROADCASTSS(NewParamAddr("alpha", 24), alpha)
	dst = Mem{Base: Load(Param("panel"), GP64())}
	return kb, a, lda, dst
}
