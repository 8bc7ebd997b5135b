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

// mod16Mask sets a fresh k register to (1<<(n mod 16))-1: the lanes of the
// last, partial trip of a loop over n floats sixteen at a time.
func mod16Mask(n Register) Register {
	Comment("k: the mask (1<<(n mod 16))-1 of the last, partial trip.")
	k := K()
	rem, ones, bits := GP64(), GP64(), GP64()
	MOVQ(n, rem)
	ANDQ(U32(15), rem)
	MOVQ(I32(-1), ones)
	BZHIQ(rem, ones, bits)
	KMOVW(bits.As32(), k)
	return k
}

var laneTables = map[string]Mem{}

// laneMasks emits the read-only table name: eight all-ones lanes then eight
// zero lanes; the eight lanes from lane 8-r (byte 32-4r) select the first r
// floats of a ymm tail (vmaskmovps).
// A file's kernels share one table of a name (emitted once per run).
func laneMasks(name string) Mem {
	if m, ok := laneTables[name]; ok {
		return m
	}
	lanes := GLOBL(name, RODATA|NOPTR)
	defer func() { laneTables[name] = lanes }()
	for i := 0; i < 8; i++ {
		v := uint64(0)
		if i < 4 {
			v = ^v
		}
		DATA(8*i, U64(v))
	}
	return lanes
}

// chunk is what one call of a stream body handles: a full vector of w
// (mask nil, scalar false), the last n mod 16 floats of a zmm stream under
// the k register mask, or one float of the scalar tail of a ymm stream.
type chunk struct {
	w      width
	mask   Register
	scalar bool
}

// vec is a fresh register of the chunk's width (xmm for one float).
func (c chunk) vec() Register {
	if c.scalar {
		return XMM()
	}
	return c.w.vec()
}

// reg is the broadcast register v in the chunk's width.
func (c chunk) reg(v VecVirtual) Register {
	if c.scalar {
		return v.AsX()
	}
	return v
}

// op is the packed or, for one float, the scalar form of an instruction.
func (c chunk) op(packed, scalar func(...Op)) func(...Op) {
	if c.scalar {
		return scalar
	}
	return packed
}

// move copies the chunk from src to dst: under a mask, a load zeroes the
// lanes outside it (which are not read) and a store leaves them alone.
func (c chunk) move(src, dst Op) {
	_, store := dst.(Mem)
	switch {
	case c.scalar:
		VMOVSS(src, dst)
	case c.mask == nil:
		VMOVUPS(src, dst)
	case store:
		VMOVUPS(src, c.mask, dst)
	default:
		VMOVUPS_Z(src, c.mask, dst)
	}
}

// load reads the chunk at m into a fresh register.
func (c chunk) load(m Mem) Register {
	v := c.vec()
	c.move(m, v)
	return v
}

// src is m as the memory source of an instruction that has a scalar
// form: folded into it, except under a mask, where it is loaded first.
func (c chunk) src(m Mem) Op {
	if c.mask != nil {
		return c.load(m)
	}
	return m
}

// packedSrc is m as the memory source of a packed-only instruction
// (vandps): folded for a full vector, loaded first otherwise.
func (c chunk) packedSrc(m Mem) Op {
	if c.mask != nil || c.scalar {
		return c.load(m)
	}
	return m
}

// stream emits the loop skeleton of the element-wise kernels over n floats
// at the pointers ptrs: four vectors per trip, then one, then the last
// n mod (floats per vector), which the zmm form does under a mask
// (masked-out lanes are neither read nor written) and the ymm form one
// float at a time. body(off, c) returns the stages of the chunk at byte
// offset off of every pointer; the stages of the four vectors of a trip
// are emitted stage by stage (all loads, then all arithmetic, then all
// stores), as the hand-written AVX2 loops were.
func stream(w width, n GPVirtual, ptrs []*Mem, body func(off int, c chunk) []func()) {
	f := w.floats()
	advance := func(floats int) {
		for _, p := range ptrs {
			ADDQ(U32(4*floats), p.Base)
		}
		SUBQ(U32(floats), n)
	}
	emit := func(vecs int, c chunk) {
		stages := make([][]func(), vecs)
		for u := range stages {
			stages[u] = body(int(w)*u, c)
		}
		for s := range stages[0] {
			for u := range stages {
				stages[u][s]()
			}
		}
	}
	big, one := "loop"+itoa(4*f), "loop"+itoa(f)
	Comment(itoa(4*f) + " floats per trip.")
	Label(big)
	CMPQ(n, U32(4*f))
	JL(LabelRef(one))
	emit(4, chunk{w: w})
	advance(4 * f)
	JMP(LabelRef(big))

	Label(one)
	CMPQ(n, U32(f))
	JL(LabelRef("tail"))
	emit(1, chunk{w: w})
	advance(f)
	JMP(LabelRef(one))

	Label("tail")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	if w == zmm {
		Comment("The last n < 16 floats under the mask (1<<n)-1: masked-out lanes are neither read nor written.")
		emit(1, chunk{w: w, mask: tailMask(n)})
	} else {
		Comment("The last n < 8 floats one at a time.")
		emit(1, chunk{w: w, scalar: true})
		advance(1)
		JMP(LabelRef("tail"))
	}

	Label("done")
	VZEROUPPER()
	RET()
}

// The AVX-512 instances, under the names main.go registers.
func axpy512()     { axpyKernel(zmm) }
func relu512()     { reluKernel(zmm) }
func reluMask512() { reluMaskKernel(zmm) }
func signPack512() { signPackKernel(zmm) }

func axpyKernel(w width) {
	name := "axpy" + w.suffix()
	TEXT(name, NOSPLIT, "func(alpha float32, x, y []float32)")
	Doc(name + " computes y[i] += alpha·x[i] with one vfmadd231ps per element (see axpy_amd64.go).")
	alpha := w.vec()
	VBROADCASTSS(NewParamAddr("alpha", 0), alpha)
	x := Mem{Base: Load(Param("x").Base(), GP64())}
	y := Mem{Base: Load(Param("y").Base(), GP64())}
	n := Load(Param("x").Len(), GP64()).(GPVirtual)
	stream(w, n, []*Mem{&x, &y}, func(off int, c chunk) []func() {
		var yv Register
		return []func(){
			func() { yv = c.load(y.Offset(off)) },
			func() { c.op(VFMADD231PS, VFMADD231SS)(c.src(x.Offset(off)), c.reg(alpha), yv) },
			func() { c.move(yv, y.Offset(off)) },
		}
	})
}

func reluKernel(w width) {
	name := "relu" + w.suffix()
	TEXT(name, NOSPLIT, "func(x, y []float32)")
	Doc(name+" sets y = max(0, x) + 0: vmaxps returns its second source x when 0 > x is false, so NaN passes,",
		"and +0 turns −0 into +0, which is Go's max(x, 0) (see relu_amd64.go).")
	x := Mem{Base: Load(Param("x").Base(), GP64())}
	y := Mem{Base: Load(Param("y").Base(), GP64())}
	n := Load(Param("x").Len(), GP64()).(GPVirtual)
	zero := w.vec()
	VXORPS(zero, zero, zero)
	stream(w, n, []*Mem{&x, &y}, func(off int, c chunk) []func() {
		var v Register
		return []func(){
			func() { v = c.vec(); c.op(VMAXPS, VMAXSS)(c.src(x.Offset(off)), c.reg(zero), v) },
			func() { c.op(VADDPS, VADDSS)(c.reg(zero), v, v) },
			func() { c.move(v, y.Offset(off)) },
		}
	})
}

// reluMaskKernel zeroes g where h == 0. The ymm form computes the mask
// h != 0 (vcmpps NEQ_UQ: ±0 false, NaN true) and ands g with it; the zmm
// form compares h == 0 (EQ_OQ: ±0 true, NaN false) into a k register and
// stores +0 through it, so g is written only where it becomes zero.
func reluMaskKernel(w width) {
	name := "reluMask" + w.suffix()
	TEXT(name, NOSPLIT, "func(h, g []float32)")
	if w == zmm {
		Doc(name + " stores +0 into g through the mask h == 0 (vcmpps EQ_OQ: ±0 true, NaN false) (see relu_amd64.go).")
	} else {
		Doc(name + " ands g with the mask h != 0 (vcmpps NEQ_UQ: ±0 false, NaN true, so a NaN h keeps g) (see relu_amd64.go).")
	}
	h := Mem{Base: Load(Param("h").Base(), GP64())}
	g := Mem{Base: Load(Param("g").Base(), GP64())}
	n := Load(Param("h").Len(), GP64()).(GPVirtual)
	zero := w.vec()
	VXORPS(zero, zero, zero)
	stream(w, n, []*Mem{&h, &g}, func(off int, c chunk) []func() {
		if w == zmm {
			z := K()
			return []func(){
				func() {
					if c.mask != nil {
						VCMPPS(U8(0), c.src(h.Offset(off)), zero, c.mask, z) // EQ_OQ within the tail mask
					} else {
						VCMPPS(U8(0), h.Offset(off), zero, z)
					}
				},
				func() { VMOVUPS(zero, z, g.Offset(off)) },
			}
		}
		var m Register
		return []func(){
			func() { m = c.vec(); c.op(VCMPPS, VCMPSS)(U8(4), c.src(h.Offset(off)), c.reg(zero), m) }, // NEQ_UQ
			func() { VANDPS(c.packedSrc(g.Offset(off)), m, m) },
			func() { c.move(m, g.Offset(off)) },
		}
	})
}

// signPackKernel packs the signs of m rows of k·l projections into k-bit
// codes. The zmm form makes each code from one or two compares under a
// k-register mask of the code's lanes; the ymm form appends the sign mask
// of eight projections at a time (vmovmskps) to a 64-bit bit queue and
// emits every k queued bits as one code, so a code may straddle vectors.
func signPackKernel(w width) {
	name := "signPack" + w.suffix()
	TEXT(name, NOSPLIT, "func(m, k, l int, p []float32, ldp int, codes []uint32)")
	Doc(name + " packs the signs of m rows of k·l projections into k-bit codes (see signpack_amd64.go).")
	m := Load(Param("m"), GP64())
	k := Load(Param("k"), GP64())
	row := Load(Param("p").Base(), GP64())
	ldp := Load(Param("ldp"), GP64())
	SHLQ(U8(2), ldp)
	codes := Load(Param("codes").Base(), GP64())
	zero := w.vec()
	VXORPS(zero, zero, zero)
	var body func()
	if w == zmm {
		body = signPackCodes(k, row, codes, zero)
	} else {
		body = signPackQueue(k, row, codes, zero)
	}
	Label("row")
	body()
	ADDQ(ldp, row)
	DECQ(m)
	JNZ(LabelRef("row"))
	VZEROUPPER()
	RET()
}

// signPackCodes emits the set-up of the zmm form and returns its row body.
func signPackCodes(k, row, codes, zero Register) func() {
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
	return func() {
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
	}
}

// signPackQueue emits the set-up of the ymm form and returns its row body.
// Shift counts go through CL (the AVX2 level does not require BMI2).
func signPackQueue(k, row, codes, zero Register) func() {
	kl := Load(Param("l"), GP64())
	IMULQ(k, kl)
	low := GP64()
	MOVQ(U32(1), low)
	MOVQ(k, RCX)
	SHLQ(CL, low)
	DECQ(low)
	lanes := laneMasks("lanes")
	return func() {
		p, left, queue, queued := GP64(), GP64(), GP64(), GP64()
		MOVQ(row, p)
		MOVQ(kl, left)
		XORQ(queue, queue)
		XORQ(queued, queued)
		// push appends the sign mask of the compare c to the queue.
		push := func(c VecVirtual) {
			bits := GP64()
			VMOVMSKPS(c, bits.As32())
			MOVQ(queued, RCX)
			SHLQ(CL, bits)
			ORQ(bits, queue)
		}
		// emit stores codes while k bits are queued, then goes to next.
		emit := func(label, next string) {
			Label(label)
			CMPQ(queued, k)
			JL(LabelRef(next))
			code := GP64()
			MOVQ(queue, code)
			ANDQ(low, code)
			MOVL(code.As32(), Mem{Base: codes})
			ADDQ(U32(4), codes)
			MOVQ(k, RCX)
			SHRQ(CL, queue)
			SUBQ(k, queued)
			JMP(LabelRef(label))
		}
		Label("loop8")
		CMPQ(left, U32(8))
		JL(LabelRef("tail"))
		c := YMM()
		VCMPPS(U8(0x11), Mem{Base: p}, zero, c) // 0 < p, ordered, quiet: NaN gives 0
		push(c)
		ADDQ(U32(8), queued)
		ADDQ(U32(32), p)
		SUBQ(U32(8), left)
		emit("emit8", "loop8")

		Label("tail")
		TESTQ(left, left)
		JZ(LabelRef("nextrow"))
		sel := GP64()
		LEAQ(lanes.Offset(32), sel)
		MOVQ(left, RCX)
		SHLQ(U8(2), RCX)
		SUBQ(RCX, sel)
		msk, v := YMM(), YMM()
		VMOVUPS(Mem{Base: sel}, msk)
		VMASKMOVPS(Mem{Base: p}, msk, v)
		VCMPPS(U8(0x11), v, zero, v)
		push(v)
		ADDQ(left, queued)
		XORQ(left, left)
		emit("emittail", "nextrow")
		Label("nextrow")
	}
}
