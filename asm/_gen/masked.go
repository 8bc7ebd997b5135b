package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// neqUQ is the vcmpps predicate "not equal, unordered" (true for NaN): the
// mask of ReLUMask, which keeps g where h ≠ 0 or h is NaN.
const neqUQ = 4

// maskedSumKernel emits the body of maskedRowNorms: over n float32 elements
// of h and of the shared vector v it adds, with d = v where h ≠ 0 (or NaN)
// and +0 elsewhere (the float32 row ReLUMask(h, v) would leave), the three
// float64 sums Σ h², Σ d² and Σ d·h, and returns them in the low lanes of
// three xmm registers. Each sum has sumKernel's accumulators, order and
// conversion points (vcvtps2pd of the float32 operands, an exact product
// fused into one of four accumulators per trip, the same reduction and
// tail), so each equals that kernel's result on the corresponding float32
// rows bit for bit: RowSumSquares of h, Dot(d, d) and RowDots(d, h).
func maskedSumKernel(w width, h, v *Mem, n GPVirtual) [3]VecVirtual {
	var acc [3][]VecVirtual
	for s := range acc {
		acc[s] = make([]VecVirtual, accumulators)
		for i := range acc[s] {
			acc[s][i] = w.vec()
			VXORPD(acc[s][i], acc[s][i], acc[s][i])
		}
	}
	zero := XMM()
	VXORPS(zero, zero, zero)
	// term adds L elements at off into accumulator u of each sum; tail, on
	// zmm, loads only the lanes it has set.
	term := func(off, u int, tail Op) {
		t, dd := w.vec(), w.vec()
		if w == zmm {
			h32 := YMM()
			if tail != nil {
				VMOVUPS_Z(h.Offset(off), tail, h32)
			} else {
				VMOVUPS(h.Offset(off), h32)
			}
			k := K()
			VCMPPS(U8(neqUQ), zero.AsY(), h32, k)
			d32 := YMM()
			VMOVUPS_Z(v.Offset(off), k, d32)
			VCVTPS2PD(h32, t)
			VCVTPS2PD(d32, dd)
		} else {
			d32 := XMM()
			VCMPPS(U8(neqUQ), h.Offset(off), zero, d32)
			VANDPS(v.Offset(off), d32, d32)
			VCVTPS2PD(h.Offset(off), t)
			VCVTPS2PD(d32, dd)
		}
		VFMADD231PD(t, t, acc[0][u])
		VFMADD231PD(dd, dd, acc[1][u])
		VFMADD231PD(dd, t, acc[2][u])
	}
	advance := func(floats int) {
		ADDQ(U32(4*floats), h.Base)
		ADDQ(U32(4*floats), v.Base)
		SUBQ(U32(floats), n)
	}
	sumLoops(w, n, term, advance)
	var r [3]VecVirtual
	for s := range r {
		r[s] = reduceAcc(w, acc[s])
	}
	if w == ymm {
		Comment("The last n < 4 floats one at a time.")
		Label("scalar")
		TESTQ(n, n)
		JZ(LabelRef("done"))
		h32, d32, t, dd := XMM(), XMM(), XMM(), XMM()
		VMOVSS(*h, h32)
		VCMPSS(U8(neqUQ), h32, zero, d32)
		v32 := XMM()
		VMOVSS(*v, v32)
		VANDPS(v32, d32, d32)
		VCVTSS2SD(h32, h32, t)
		VCVTSS2SD(d32, d32, dd)
		VFMADD231SD(t, t, r[0])
		VFMADD231SD(dd, dd, r[1])
		VFMADD231SD(dd, t, r[2])
		advance(1)
		JMP(LabelRef("scalar"))
		Label("done")
	}
	return r
}

func maskedRowNormsKernel(w width) {
	TEXT("maskedRowNorms"+w.suffix(), NOSPLIT, "func(m, n int, h []float32, ldh int, w []float32, out []float64)")
	Doc("maskedRowNorms" + w.suffix() + " sets out[3i..3i+2] to Σ h², Σ d², Σ d·h of row i of h, d = w masked by h ≠ 0 (see maskedrownorms_amd64.go).")
	rowLoopN([]string{"h", "w"}, []string{"ldh", ""}, func(rows []Mem, n GPVirtual) []VecVirtual {
		r := maskedSumKernel(w, &rows[0], &rows[1], n)
		return r[:]
	})
}
