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

// packAT6 emits packAT6AVX2: six contiguous floats of each of kb rows at a
// (row stride lda floats), scaled by alpha, row p to panel[p*6 : p*6+6],
// two rows per trip, each one 16-byte and one 8-byte load and store. It
// uses xmm registers only (VEX.128 zeroes the upper halves), so it needs
// no VZEROUPPER.
func packAT6() {
	alpha := XMM()
	kb, a, lda, dst := packAText("packAT6AVX2", "six floats of each of kb rows of a, scaled by alpha, into panel[p*6 : p*6+6] (see packat_amd64.go)", alpha)
	// load scales the six floats at m into lo (four) and hi (two).
	load := func(m Mem) (lo, hi VecVirtual) {
		lo, hi = XMM(), XMM()
		VMULPS(m, alpha, lo)
		VMOVSD(m.Offset(16), hi)
		VMULPS(hi, alpha, hi)
		return lo, hi
	}
	store := func(lo, hi VecVirtual, row int) {
		VMOVUPS(lo, dst.Offset(4*tileM*row))
		VMOVSD(hi, dst.Offset(4*tileM*row+16))
	}

	Label("pair")
	CMPQ(kb, U32(2))
	JL(LabelRef("single"))
	lo0, hi0 := load(Mem{Base: a})
	lo1, hi1 := load(Mem{Base: a, Index: lda, Scale: 1})
	store(lo0, hi0, 0)
	store(lo1, hi1, 1)
	LEAQ(Mem{Base: a, Index: lda, Scale: 2}, a)
	ADDQ(U32(8*tileM), dst.Base)
	SUBQ(U32(2), kb)
	JMP(LabelRef("pair"))

	Label("single")
	TESTQ(kb, kb)
	JZ(LabelRef("done"))
	lo, hi := load(Mem{Base: a})
	store(lo, hi, 0)
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
