package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// width is a vector register width: ymm (AVX2, four float64 lanes) or zmm
// (AVX-512, eight).
type width int

const (
	ymm width = 32
	zmm width = 64
)

// lanes is the number of float64 lanes (and so of float32 inputs per
// vcvtps2pd).
func (w width) lanes() int { return int(w) / 8 }

// floats is the number of float32 lanes.
func (w width) floats() int { return int(w) / 4 }

func (w width) suffix() string {
	if w == zmm {
		return "AVX512"
	}
	return "AVX2"
}

func (w width) vec() VecVirtual {
	if w == zmm {
		return ZMM()
	}
	return YMM()
}

// accumulators is the number of independent float64 sums in the main loop.
const accumulators = 4

// sumKernel emits the body shared by dot, rowdots and rowsumsquares: it
// adds Σ x[i]·y[i] (y == nil: Σ x[i]²) over n float32 elements into a
// float64 that it returns in the low lane of an xmm register. n counts
// down; x and y advance. The main loop converts 4·lanes floats per input
// and trip; the AVX2 form then takes lanes at a time and finishes with a
// scalar loop after the horizontal sum, the AVX-512 form loads the last
// n mod 8 under a k-register mask (masked-out lanes are neither read nor
// faulted on) so it has no scalar loop.
func sumKernel(w width, x, y *Mem, n GPVirtual) VecVirtual {
	return sumKernelOf(w, x, y, n, false)
}

// sumKernelOf is sumKernel; with diff it adds Σ (x[i] − y[i])² instead, the
// difference taken in float32 (as a float32 x − y, or Axpy(−1, y, x), would
// give it) before the conversion: the same accumulators and order as dot of
// that difference with itself, so bit-identical to it.
func sumKernelOf(w width, x, y *Mem, n GPVirtual, diff bool) VecVirtual {
	acc := make([]VecVirtual, accumulators)
	for i := range acc {
		acc[i] = w.vec()
		VXORPD(acc[i], acc[i], acc[i])
	}
	term := func(off int, dst VecVirtual, mask Op) {
		t := w.vec()
		cvt := func(m Mem, r VecVirtual) {
			if mask != nil {
				VCVTPS2PD_Z(m.Offset(off), mask, r)
				return
			}
			VCVTPS2PD(m.Offset(off), r)
		}
		if diff {
			// L floats of x − y in float32, then widened.
			d := XMM()
			if w == zmm {
				d32 := YMM()
				if mask != nil {
					VMOVUPS_Z(x.Offset(off), mask, d32)
					e := YMM()
					VMOVUPS_Z(y.Offset(off), mask, e)
					VSUBPS(e, d32, d32)
				} else {
					VMOVUPS(x.Offset(off), d32)
					VSUBPS(y.Offset(off), d32, d32)
				}
				VCVTPS2PD(d32, t)
			} else {
				VMOVUPS(x.Offset(off), d)
				VSUBPS(y.Offset(off), d, d)
				VCVTPS2PD(d, t)
			}
			VFMADD231PD(t, t, dst)
			return
		}
		cvt(*x, t)
		if y == nil {
			VFMADD231PD(t, t, dst)
			return
		}
		u := w.vec()
		cvt(*y, u)
		VFMADD231PD(t, u, dst)
	}
	advance := func(floats int) {
		ADDQ(U32(4*floats), x.Base)
		if y != nil {
			ADDQ(U32(4*floats), y.Base)
		}
		SUBQ(U32(floats), n)
	}
	sumLoops(w, n, func(off, u int, mask Op) { term(off, acc[u], mask) }, advance)
	r := reduceAcc(w, acc)

	if w == ymm {
		Comment("The last n < 4 floats one at a time.")
		Label("scalar")
		TESTQ(n, n)
		JZ(LabelRef("done"))
		t := XMM()
		if diff {
			d := XMM()
			VMOVSS(*x, d)
			VSUBSS(*y, d, d)
			VCVTSS2SD(d, t, t)
			VFMADD231SD(t, t, r)
		} else if y == nil {
			VCVTSS2SD(*x, t, t)
			VFMADD231SD(t, t, r)
		} else {
			VCVTSS2SD(*x, t, t)
			u := XMM()
			VCVTSS2SD(*y, u, u)
			VFMADD231SD(t, u, r)
		}
		advance(1)
		JMP(LabelRef("scalar"))
		Label("done")
	}
	return r
}

// sumLoops emits the loops of the float64 reductions, ending at the label
// "reduce": accumulators·lanes floats per trip, the lanes at byte offset off
// going to accumulator u through term(off, u, nil), then lanes at a time into
// accumulator 0, then on zmm the last n mod lanes under the k-register mask
// (1<<n)−1 into accumulator 1 (term(0, 1, k)); advance moves the pointers
// and n on by a count of floats. The AVX2 scalar tail follows the reduction.
func sumLoops(w width, n GPVirtual, term func(off, u int, mask Op), advance func(floats int)) {
	L := w.lanes()
	Comment("Main loop: " + itoa(accumulators*L) + " floats per trip.")
	Label("loop")
	CMPQ(n, U32(accumulators*L))
	JL(LabelRef("one"))
	for u := 0; u < accumulators; u++ {
		term(4*L*u, u, nil)
	}
	advance(accumulators * L)
	JMP(LabelRef("loop"))

	Comment(itoa(L) + " floats at a time.")
	Label("one")
	CMPQ(n, U32(L))
	JL(LabelRef("tail"))
	term(0, 0, nil)
	advance(L)
	JMP(LabelRef("one"))

	Label("tail")
	if w == zmm {
		Comment("The last n < 8 floats under the mask (1<<n)-1.")
		TESTQ(n, n)
		JZ(LabelRef("reduce"))
		ones, bits := GP64(), GP64()
		MOVQ(I32(-1), ones)
		BZHIQ(n, ones, bits)
		k := K()
		KMOVB(bits.As32(), k)
		term(0, 1, k)
	}
	Label("reduce")
}

// reduceAcc adds the four accumulators, (acc0 + acc1) + (acc2 + acc3), then
// the halves of the sum down to one float64, which it returns in the low
// lane of an xmm register.
func reduceAcc(w width, acc []VecVirtual) VecVirtual {
	VADDPD(acc[1], acc[0], acc[0])
	VADDPD(acc[3], acc[2], acc[2])
	VADDPD(acc[2], acc[0], acc[0])
	sum := acc[0]
	if w == zmm {
		hi := YMM()
		VEXTRACTF64X4(U8(1), sum, hi)
		VADDPD(hi, sum.AsY(), hi)
		sum = hi
	}
	hi := XMM()
	VEXTRACTF128(U8(1), sum.AsY(), hi)
	r := XMM()
	VADDPD(hi, sum.AsX(), r)
	h := XMM()
	VUNPCKHPD(r, r, h)
	VADDSD(h, r, r)
	return r
}

func itoa(v int) string {
	if v < 10 {
		return string(rune('0' + v))
	}
	return itoa(v/10) + string(rune('0'+v%10))
}

func dotKernel(w width) {
	TEXT("dot"+w.suffix(), NOSPLIT, "func(x, y []float32) float64")
	Doc("dot" + w.suffix() + " returns Σ x[i]·y[i] in float64 (see dot_amd64.go).")
	x := Mem{Base: Load(Param("x").Base(), GP64())}
	y := Mem{Base: Load(Param("y").Base(), GP64())}
	n := Load(Param("x").Len(), GP64()).(GPVirtual)
	r := sumKernel(w, &x, &y, n)
	Store(r, ReturnIndex(0))
	VZEROUPPER()
	RET()
}

func sqDistKernel(w width) {
	TEXT("sqDist"+w.suffix(), NOSPLIT, "func(x, y []float32) float64")
	Doc("sqDist" + w.suffix() + " returns Σ (x[i] − y[i])² in float64, the difference in float32 (see sqdist_amd64.go).")
	x := Mem{Base: Load(Param("x").Base(), GP64())}
	y := Mem{Base: Load(Param("y").Base(), GP64())}
	n := Load(Param("x").Len(), GP64()).(GPVirtual)
	r := sumKernelOf(w, &x, &y, n, true)
	Store(r, ReturnIndex(0))
	VZEROUPPER()
	RET()
}

// rowLoop runs body for each of m rows with the row pointers advanced by
// their leading dimensions (in floats) and writes each row's result to out.
func rowLoop(w width, ptrs []string, lds []string, body func(rows []Mem, n GPVirtual) VecVirtual, scale VecVirtual) {
	rowLoopN(ptrs, lds, func(rows []Mem, n GPVirtual) []VecVirtual {
		r := body(rows, n)
		if scale != nil {
			VMULSD(scale, r, r)
		}
		return []VecVirtual{r}
	})
}

// rowLoopN runs body for each of m rows and writes its results, one float64
// each, to out in turn (len(results) per row). The row pointers advance by
// their leading dimensions (in floats); a pointer whose ld is "" stays put
// (a vector shared by every row).
func rowLoopN(ptrs []string, lds []string, body func(rows []Mem, n GPVirtual) []VecVirtual) {
	m := Load(Param("m"), GP64())
	out := Mem{Base: Load(Param("out").Base(), GP64())}
	rows := make([]GPVirtual, len(ptrs))
	strides := make([]GPVirtual, len(ptrs))
	for i := range ptrs {
		rows[i] = Load(Param(ptrs[i]).Base(), GP64()).(GPVirtual)
		if lds[i] != "" {
			strides[i] = Load(Param(lds[i]), GP64()).(GPVirtual)
			SHLQ(U8(2), strides[i])
		}
	}
	Label("row")
	n := Load(Param("n"), GP64()).(GPVirtual)
	cur := make([]Mem, len(ptrs))
	for i := range ptrs {
		p := GP64()
		MOVQ(rows[i], p)
		cur[i] = Mem{Base: p}
	}
	rs := body(cur, n)
	for k, r := range rs {
		VMOVSD(r, out.Offset(8*k))
	}
	ADDQ(U32(8*len(rs)), out.Base)
	for i := range ptrs {
		if strides[i] != nil {
			ADDQ(strides[i], rows[i])
		}
	}
	DECQ(m)
	JNZ(LabelRef("row"))
	VZEROUPPER()
	RET()
}

func rowDotsKernel(w width) {
	TEXT("rowDots"+w.suffix(), NOSPLIT, "func(m, n int, a []float32, lda int, b []float32, ldb int, out []float64)")
	Doc("rowDots" + w.suffix() + " sets out[i] to the float64 dot product of row i of a and b (see rowdots_amd64.go).")
	rowLoop(w, []string{"a", "b"}, []string{"lda", "ldb"}, func(rows []Mem, n GPVirtual) VecVirtual {
		return sumKernel(w, &rows[0], &rows[1], n)
	}, nil)
}

func rowSumSquaresKernel(w width) {
	TEXT("rowSumSquares"+w.suffix(), NOSPLIT, "func(m, n int, scale float64, a []float32, lda int, out []float64)")
	Doc("rowSumSquares" + w.suffix() + " sets out[i] to scale times the float64 sum of squares of row i of a (see rowsumsquares_amd64.go).")
	scale := Load(Param("scale"), XMM()).(VecVirtual)
	rowLoop(w, []string{"a"}, []string{"lda"}, func(rows []Mem, n GPVirtual) VecVirtual {
		return sumKernel(w, &rows[0], nil, n)
	}, scale)
}
