package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// biasReLUKernel emits biasReLU{AVX2,AVX512}: for rows rows of cols floats,
// z[r·ldz+j] = z[r·ldz+j] + bias[j] (vaddps: the same rounding as a GEMM
// kernel's C = acc + 1·C with C holding the bias) and h[r·ldh+j] =
// max(0, z) + 0 (reluKernel's Go max: NaN passes, −0 becomes +0). One
// vector per trip (the GEMM driver calls it on one 16- or 32-column panel
// of a block of rows, just written and still in L1); the last cols mod
// (floats per vector) under a mask (zmm) or one float at a time (ymm).
func biasReLUKernel(w width) {
	name := "biasReLU" + w.suffix()
	TEXT(name, NOSPLIT, "func(rows, cols int, z *float32, ldz int, bias *float32, h *float32, ldh int)")
	Doc(name + " adds bias to each row of z and sets h = max(0, z) + 0 (see biasrelu_amd64.go).")
	rows := Load(Param("rows"), GP64())
	cols := Load(Param("cols"), GP64())
	zr := Load(Param("z"), GP64())
	ldz := Load(Param("ldz"), GP64())
	SHLQ(U8(2), ldz)
	bias := Load(Param("bias"), GP64())
	hr := Load(Param("h"), GP64())
	ldh := Load(Param("ldh"), GP64())
	SHLQ(U8(2), ldh)
	zero := w.vec()
	VXORPS(zero, zero, zero)
	f := w.floats()
	var k Register
	if w == zmm {
		k = mod16Mask(cols)
	}
	zp, hp, bp, n := GP64(), GP64(), GP64(), GP64()
	body := func(c chunk) {
		z, b, h := Mem{Base: zp}, Mem{Base: bp}, Mem{Base: hp}
		v := c.load(z)
		c.op(VADDPS, VADDSS)(c.src(b), v, v)
		c.move(v, z)
		t := c.vec()
		c.op(VMAXPS, VMAXSS)(v, c.reg(zero), t)
		c.op(VADDPS, VADDSS)(c.reg(zero), t, t)
		c.move(t, h)
	}
	advance := func(floats int) {
		for _, p := range []GPVirtual{zp, hp, bp} {
			ADDQ(U32(4*floats), p)
		}
		SUBQ(U32(floats), n)
	}

	Label("row")
	TESTQ(rows, rows)
	JZ(LabelRef("done"))
	MOVQ(zr, zp)
	MOVQ(hr, hp)
	MOVQ(bias, bp)
	MOVQ(cols, n)
	Label("vec")
	CMPQ(n, U32(f))
	JL(LabelRef("tail"))
	body(chunk{w: w})
	advance(f)
	JMP(LabelRef("vec"))
	Label("tail")
	TESTQ(n, n)
	JZ(LabelRef("next"))
	if w == zmm {
		body(chunk{w: w, mask: k})
	} else {
		body(chunk{w: w, scalar: true})
		advance(1)
		JMP(LabelRef("tail"))
	}
	Label("next")
	ADDQ(ldz, zr)
	ADDQ(ldh, hr)
	DECQ(rows)
	JMP(LabelRef("row"))

	Label("done")
	VZEROUPPER()
	RET()
}
