package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// GEMM register tile of the AVX-512 micro-kernel: tileM rows by tileV zmm
// (sixteen floats each) of columns.
const (
	tileM = 6
	tileV = 2
)

// sgemm6x32 is the 6×32 micro-kernel: twelve zmm accumulators; per p two
// zmm loads of the packed B row and six broadcasts of the packed A column,
// each used by two vfmadd231ps; unrolled four times.
func sgemm6x32() {
	TEXT("sgemmKernel6x32AVX512", NOSPLIT, "func(kc int, a, b, c *float32, ldc int, beta float32)")
	Doc("sgemmKernel6x32AVX512 sets the 6×32 tile c to Σ_p a(·,p)·b(p,·) + beta·c (see sgemmkernel_amd64.go).")
	kc := Load(Param("kc"), GP64())
	a := Mem{Base: Load(Param("a"), GP64())}
	b := Mem{Base: Load(Param("b"), GP64())}
	acc := make([][tileV]VecVirtual, tileM)
	for i := range acc {
		for j := range acc[i] {
			acc[i][j] = ZMM()
			VXORPS(acc[i][j], acc[i][j], acc[i][j])
		}
	}
	const nrBytes = 16 * tileV * 4
	const mrBytes = tileM * 4
	step := func(p int) {
		var bv [tileV]VecVirtual
		for j := range bv {
			bv[j] = ZMM()
			VMOVUPS(b.Offset(p*nrBytes+64*j), bv[j])
		}
		for i := 0; i < tileM; i++ {
			ai := ZMM()
			VBROADCASTSS(a.Offset(p*mrBytes+4*i), ai)
			for j := range bv {
				VFMADD231PS(bv[j], ai, acc[i][j])
			}
		}
	}
	Label("loop4")
	CMPQ(kc, U32(4))
	JL(LabelRef("loop1"))
	PREFETCHT0(b.Offset(4 * 4 * nrBytes))
	PREFETCHT0(a.Offset(384))
	step(0)
	step(1)
	PREFETCHT0(b.Offset(4*4*nrBytes + 256))
	step(2)
	step(3)
	ADDQ(U32(4*mrBytes), a.Base)
	ADDQ(U32(4*nrBytes), b.Base)
	SUBQ(U32(4), kc)
	JMP(LabelRef("loop4"))

	Label("loop1")
	TESTQ(kc, kc)
	JZ(LabelRef("update"))
	step(0)
	ADDQ(U32(mrBytes), a.Base)
	ADDQ(U32(nrBytes), b.Base)
	DECQ(kc)
	JMP(LabelRef("loop1"))

	Label("update")
	c := Mem{Base: Load(Param("c"), GP64())}
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	bits := GP32()
	MOVL(NewParamAddr("beta", 40), bits)
	TESTL(U32(0x7fffffff), bits)
	JNZ(LabelRef("accumulate"))
	Comment("beta == ±0: store without reading C.")
	for i := range acc {
		for j := range acc[i] {
			VMOVUPS(acc[i][j], c.Offset(64*j))
		}
		if i < tileM-1 {
			ADDQ(ldc, c.Base)
		}
	}
	VZEROUPPER()
	RET()

	Label("accumulate")
	beta := ZMM()
	VBROADCASTSS(NewParamAddr("beta", 40), beta)
	for i := range acc {
		for j := range acc[i] {
			VFMADD231PS(c.Offset(64*j), beta, acc[i][j])
			VMOVUPS(acc[i][j], c.Offset(64*j))
		}
		if i < tileM-1 {
			ADDQ(ldc, c.Base)
		}
	}
	VZEROUPPER()
	RET()
}
