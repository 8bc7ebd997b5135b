package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// tailMask sets a fresh k register to the low n bits ((1<<n)-1, n < 64).
func tailMask(n Register) Register {
	ones, bits := GP64(), GP64()
	MOVQ(I32(-1), ones)
	BZHIQ(n, ones, bits)
	k := K()
	KMOVQ(bits, k)
	return k
}

// stream emits the loop skeleton of the AVX-512 element-wise kernels over n
// floats at the pointers ptrs: four zmm per trip, then one, then the last
// n mod 16 under a mask; body(off, mask) handles the sixteen floats at byte
// offset off of every pointer, mask nil for full vectors.
func stream(n GPVirtual, ptrs []*Mem, body func(off int, mask Register)) {
	advance := func(floats int) {
		for _, p := range ptrs {
			ADDQ(U32(4*floats), p.Base)
		}
		SUBQ(U32(floats), n)
	}
	Comment("64 floats per trip.")
	Label("loop64")
	CMPQ(n, U32(64))
	JL(LabelRef("loop16"))
	for u := 0; u < 4; u++ {
		body(64*u, nil)
	}
	advance(64)
	JMP(LabelRef("loop64"))

	Label("loop16")
	CMPQ(n, U32(16))
	JL(LabelRef("tail"))
	body(0, nil)
	advance(16)
	JMP(LabelRef("loop16"))

	Comment("The last n < 16 floats under the mask (1<<n)-1: masked-out lanes are neither read nor written.")
	Label("tail")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	body(0, tailMask(n))

	Label("done")
	VZEROUPPER()
	RET()
}

// load reads sixteen floats at m into a fresh zmm (zeroing the lanes
// outside mask when mask is not nil).
func load(m Mem, mask Register) VecVirtual {
	z := ZMM()
	if mask != nil {
		VMOVUPS_Z(m, mask, z)
	} else {
		VMOVUPS(m, z)
	}
	return z
}

// store writes z to m (only the lanes in mask when mask is not nil).
func store(z VecVirtual, m Mem, mask Register) {
	if mask != nil {
		VMOVUPS(z, mask, m)
		return
	}
	VMOVUPS(z, m)
}

func axpy512() {
	TEXT("axpyAVX512", NOSPLIT, "func(alpha float32, x, y []float32)")
	Doc("axpyAVX512 computes y[i] += alpha·x[i] with one vfmadd231ps per element (see axpy_amd64.go).")
	alpha := ZMM()
	VBROADCASTSS(NewParamAddr("alpha", 0), alpha)
	x := Mem{Base: Load(Param("x").Base(), GP64())}
	y := Mem{Base: Load(Param("y").Base(), GP64())}
	n := Load(Param("x").Len(), GP64()).(GPVirtual)
	stream(n, []*Mem{&x, &y}, func(off int, mask Register) {
		yv := load(y.Offset(off), mask)
		if mask != nil {
			xv := load(x.Offset(off), mask)
			VFMADD231PS(xv, alpha, yv)
		} else {
			VFMADD231PS(x.Offset(off), alpha, yv)
		}
		store(yv, y.Offset(off), mask)
	})
}

func relu512() {
	TEXT("reluAVX512", NOSPLIT, "func(x, y []float32)")
	Doc("reluAVX512 sets y = max(0, x) + 0: vmaxps returns its second source x when 0 > x is false, so NaN passes,",
		"and +0 turns −0 into +0, which is Go's max(x, 0) (see relu_amd64.go).")
	x := Mem{Base: Load(Param("x").Base(), GP64())}
	y := Mem{Base: Load(Param("y").Base(), GP64())}
	n := Load(Param("x").Len(), GP64()).(GPVirtual)
	zero := ZMM()
	VXORPS(zero, zero, zero)
	stream(n, []*Mem{&x, &y}, func(off int, mask Register) {
		v := ZMM()
		if mask != nil {
			v = load(x.Offset(off), mask)
			VMAXPS(v, zero, v)
		} else {
			VMAXPS(x.Offset(off), zero, v)
		}
		VADDPS(zero, v, v)
		store(v, y.Offset(off), mask)
	})
}

func reluMask512() {
	TEXT("reluMaskAVX512", NOSPLIT, "func(h, g []float32)")
	Doc("reluMaskAVX512 stores +0 into g through the mask h == 0 (vcmpps EQ_OQ: ±0 true, NaN false) (see relu_amd64.go).")
	h := Mem{Base: Load(Param("h").Base(), GP64())}
	g := Mem{Base: Load(Param("g").Base(), GP64())}
	n := Load(Param("h").Len(), GP64()).(GPVirtual)
	zero := ZMM()
	VXORPS(zero, zero, zero)
	stream(n, []*Mem{&h, &g}, func(off int, mask Register) {
		z := K()
		if mask != nil {
			v := load(h.Offset(off), mask)
			VCMPPS(U8(0), v, zero, mask, z) // EQ_OQ within the tail mask
		} else {
			VCMPPS(U8(0), h.Offset(off), zero, z)
		}
		VMOVUPS(zero, z, g.Offset(off))
	})
}

// signPack512 makes each k-bit code from one or two masked compares.
func signPack512() {
	TEXT("signPackAVX512", NOSPLIT, "func(m, k, l int, p []float32, ldp int, codes []uint32)")
	Doc("signPackAVX512 packs the signs of m rows of k·l projections into k-bit codes (see signpack_amd64.go).")
	m := Load(Param("m"), GP64())
	k := Load(Param("k"), GP64())
	row := Load(Param("p").Base(), GP64())
	ldp := Load(Param("ldp"), GP64())
	SHLQ(U8(2), ldp)
	codes := Load(Param("codes").Base(), GP64())
	zero := ZMM()
	VXORPS(zero, zero, zero)

	Comment("klo masks the first min(k, 16) lanes of a code, khi the k-16 lanes past them (k > 16).")
	lo := GP64()
	MOVQ(k, lo)
	CMPQ(lo, U32(16))
	JLE(LabelRef("lomask"))
	MOVQ(U32(16), lo)
	Label("lomask")
	klo := tailMask(lo)
	hi := GP64()
	MOVQ(k, hi)
	SUBQ(lo, hi)
	khi := tailMask(hi)
	step := GP64()
	MOVQ(k, step)
	SHLQ(U8(2), step)

	Label("row")
	t := Load(Param("l"), GP64())
	p := GP64()
	MOVQ(row, p)

	Label("code")
	Comment("0 < p, ordered and quiet (vcmpps 0x11): NaN, ±0 and masked-out (zeroed) lanes give 0.")
	v := ZMM()
	VMOVUPS_Z(Mem{Base: p}, klo, v)
	c := K()
	VCMPPS(U8(0x11), v, zero, c)
	bits := GP32()
	KMOVW(c, bits)
	CMPQ(k, U32(16))
	JLE(LabelRef("store"))
	w := ZMM()
	VMOVUPS_Z(Mem{Base: p, Disp: 64}, khi, w)
	c2 := K()
	VCMPPS(U8(0x11), w, zero, c2)
	hb := GP32()
	KMOVW(c2, hb)
	SHLL(U8(16), hb)
	ORL(hb, bits)
	Label("store")
	MOVL(bits, Mem{Base: codes})
	ADDQ(U32(4), codes)
	ADDQ(step, p)
	DECQ(t)
	JNZ(LabelRef("code"))

	ADDQ(ldp, row)
	DECQ(m)
	JNZ(LabelRef("row"))
	VZEROUPPER()
	RET()
}
