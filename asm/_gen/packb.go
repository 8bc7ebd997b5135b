package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
)

// packBRows is how many rows ahead packB prefetches: rows ldb floats apart
// (4 KiB for a 1024-wide B) are a stride the hardware prefetchers do not
// follow.
const packBRows = 8

// packB emits packB{cols}AVX2: kb rows of cols floats of B (row stride ldb
// floats) copied to a contiguous panel, row p to panel[p*cols:], four rows
// per trip with ymm loads and stores (only AVX is needed), each row's lines
// prefetched packBRows rows ahead.
func packB(cols int) {
	name := fmt.Sprintf("packB%dAVX2", cols)
	TEXT(name, NOSPLIT, "func(kb int, b *float32, ldb int, panel *float32)")
	Doc(fmt.Sprintf("%s copies kb rows of %d floats of b (row stride ldb) to panel[p*%d:] (see packb_amd64.go).", name, cols, cols))
	kb := Load(Param("kb"), GP64())
	ldb := Load(Param("ldb"), GP64())
	SHLQ(U8(2), ldb)
	src := Load(Param("b"), GP64())
	dst := Mem{Base: Load(Param("panel"), GP64())}
	ahead := GP64()
	IMUL3Q(U32(packBRows), ldb, ahead)
	vecs := cols / 8
	row := func(r int, at Mem) {
		for l := 0; l < cols*4; l += 64 {
			PREFETCHT0(Mem{Base: src, Index: ahead, Scale: 1, Disp: l})
		}
		for v := 0; v < vecs; v++ {
			y := YMM()
			VMOVUPS(at.Offset(32*v), y)
			VMOVUPS(y, dst.Offset(4*cols*r+32*v))
		}
	}
	Label("loop4")
	CMPQ(kb, U32(4))
	JL(LabelRef("tail"))
	for r := 0; r < 4; r++ {
		row(r, Mem{Base: src})
		ADDQ(ldb, src)
	}
	ADDQ(U32(4*4*cols), dst.Base)
	SUBQ(U32(4), kb)
	JMP(LabelRef("loop4"))

	Label("tail")
	TESTQ(kb, kb)
	JZ(LabelRef("done"))
	row(0, Mem{Base: src})
	ADDQ(ldb, src)
	ADDQ(U32(4*cols), dst.Base)
	DECQ(kb)
	JMP(LabelRef("tail"))

	Label("done")
	VZEROUPPER()
	RET()
}
