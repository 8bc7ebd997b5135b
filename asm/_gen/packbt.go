package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// packBT emits packBT{rows}AVX2: kb columns of rows rows of B (row stride
// ldb floats) transposed into a panel of rows floats per column. Eight
// columns at a time each group of eight rows is transposed in ymm
// registers (vunpcklps/vunpckhps, vshufps, vperm2f128); the last kb mod 8
// columns go one float per row.
func packBT(rows int) {
	name := fmt.Sprintf("packBT%dAVX2", rows)
	TEXT(name, NOSPLIT, "func(kb int, b *float32, ldb int, panel *float32)")
	Doc(fmt.Sprintf("%s packs kb columns of %d rows of b transposed into panel[p*%d+j] (see packbt_amd64.go).", name, rows, rows))
	kb := Load(Param("kb"), GP64())
	ldb := Load(Param("ldb"), GP64())
	SHLQ(U8(2), ldb)
	dst := Mem{Base: Load(Param("panel"), GP64())}
	groups := rows / 8
	base := make([]GPVirtual, groups)
	base[0] = Load(Param("b"), GP64()).(GPVirtual)
	for g := 1; g < groups; g++ {
		base[g] = GP64()
		LEAQ(Mem{Base: base[g-1], Index: ldb, Scale: 8}, base[g])
	}
	addr := strided(ldb, 8)
	rowAddr := func(g, r int) Mem { return addr(base[g], r) }

	columns(kb, func() {
		for g := 0; g < groups; g++ {
			Commentf("Rows %d..%d → lanes %d..%d of columns p..p+7.", 8*g, 8*g+7, 8*g, 8*g+7)
			var v [8]VecVirtual
			for r := range v {
				v[r] = YMM()
				VMOVUPS(rowAddr(g, r), v[r])
			}
			t := interleave(v[:])
			s := append(gather4(t[:4]), gather4(t[4:])...)
			// s[c] (c < 4) holds column c of rows 0..3 in its low half and
			// column c+4 in its high half; s[4+c] the same for rows 4..7.
			for c := 0; c < 4; c++ {
				lo, hi := YMM(), YMM()
				VPERM2F128(U8(0x20), s[4+c], s[c], lo)
				VMOVUPS(lo, dst.Offset(4*(c*rows+8*g)))
				VPERM2F128(U8(0x31), s[4+c], s[c], hi)
				VMOVUPS(hi, dst.Offset(4*((c+4)*rows+8*g)))
			}
		}
	}, func() {
		for g := 0; g < groups; g++ {
			for r := 0; r < 8; r++ {
				x := XMM()
				VMOVSS(rowAddr(g, r), x)
				VMOVSS(x, dst.Offset(4*(8*g+r)))
			}
		}
	}, func(cols int) {
		for g := range base {
			ADDQ(U32(4*cols), base[g])
		}
		ADDQ(U32(4*cols*rows), dst.Base)
	})
}

// columns emits the column loop of the packers and their return: block
// packs eight columns per trip, then column packs one per trip; advance
// moves the pointers past cols columns.
func columns(kb Register, block, column func(), advance func(cols int)) {
	Label("loop8")
	CMPQ(kb, U32(8))
	JL(LabelRef("tail"))
	block()
	advance(8)
	SUBQ(U32(8), kb)
	JMP(LabelRef("loop8"))

	Label("tail")
	TESTQ(kb, kb)
	JZ(LabelRef("done"))
	column()
	advance(1)
	DECQ(kb)
	JMP(LabelRef("tail"))

	Label("done")
	VZEROUPPER()
	RET()
}

// strided returns the address of row r (r < rows) of a block at base with
// a row stride of ld bytes: base + r·ld, the multiples that a scaled index
// cannot express (3, 5, 6, 7) in registers of their own, set up here.
func strided(ld Register, rows int) func(base Register, r int) Mem {
	mul := map[int]GPVirtual{}
	for _, f := range []int{3, 5, 6, 7} {
		if f < rows {
			r := GP64()
			IMUL3Q(U32(f), ld, r)
			mul[f] = r
		}
	}
	return func(base Register, r int) Mem {
		m := Mem{Base: base}
		switch r {
		case 0:
		case 1, 2, 4:
			m.Index, m.Scale = ld, uint8(r)
		default:
			m.Index, m.Scale = mul[r], 1
		}
		return m
	}
}

// interleave is the first step of an in-register transpose of the ymm rows
// v (an even number): for each pair of rows (v[2i], v[2i+1]) the
// vunpcklps t[2i] (lanes 0, 1 of each 128-bit half, the two rows
// alternating) and the vunpckhps t[2i+1] (lanes 2, 3).
func interleave(v []VecVirtual) []VecVirtual {
	t := make([]VecVirtual, len(v))
	for i := 0; i < len(v)/2; i++ {
		t[2*i], t[2*i+1] = YMM(), YMM()
		VUNPCKLPS(v[2*i+1], v[2*i], t[2*i])
		VUNPCKHPS(v[2*i+1], v[2*i], t[2*i+1])
	}
	return t
}

// gather4 is the second step for four rows, from the interleaved pairs t
// of rows 0, 1 (t[0], t[1]) and 2, 3 (t[2], t[3]): s[c] holds column c of
// the four rows in its low half and column c+4 in its high half (vshufps
// 0x44, 0xEE).
func gather4(t []VecVirtual) []VecVirtual {
	s := make([]VecVirtual, 4)
	for i := 0; i < 2; i++ { // low/high unpack
		s[2*i], s[2*i+1] = YMM(), YMM()
		VSHUFPS(U8(0x44), t[2+i], t[i], s[2*i])
		VSHUFPS(U8(0xEE), t[2+i], t[i], s[2*i+1])
	}
	return s
}
