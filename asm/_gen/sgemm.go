package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// GEMM register tiles: tileM (6) or 2·tileM rows by tileV (or one) vectors
// of columns (sixteen floats per zmm, eight per ymm).
const (
	tileM = 6
	tileV = 2
)

// tile describes one micro-kernel: its vector width, its six-row A panels
// and B vectors per row, and its prefetch schedule in the kc loop (unrolled
// four times): prefB[0] and prefB[1] are the distances ahead of b fetched
// before steps 0 and 2, prefA the distance ahead of each A panel (0: none),
// prefC whether the C tile is fetched before the loop.
type tile struct {
	name         string
	w            width
	panels, vecs int
	prefB        [2]int
	prefA        int
	prefC        bool
	rows         int  // rows of C, the first of the panels' (0: all, tileM·panels)
	strided      bool // B's rows ldb floats apart (a last argument), read in place
	biasReLU     bool // epilogue c = acc + bias, h = max(c, 0) + 0 instead of beta
}

// tile512 is an AVX-512 tile: B fetched four unrolled trips ahead (and
// 256 bytes further before step 2), the A panels 384 bytes ahead, the C
// tile before the loop.
func tile512(panels, vecs int) tile {
	ahead := 4 * 4 * 64 * vecs
	t := tile{w: zmm, panels: panels, vecs: vecs, prefB: [2]int{ahead, ahead + 256}, prefA: 384, prefC: true}
	t.name = "sgemmKernel" + itoa(tileM*panels) + "x" + itoa(16*vecs) + "AVX512"
	return t
}

// tileLdb is the AVX-512 tile of the first rows rows of panels six-row A
// panels by 32 columns of B read in place (row p at b + p·ldb floats): the
// NN path that does not pack B. Same FMA chain per element as the packed
// tiles, so bit-identical to them. No B prefetch by distance (the rows
// are ldb apart); the 12-row tile fetches the next 32 columns of each row
// it reads into L2 instead (the rows are in different pages, which the
// hardware prefetchers do not follow).
func tileLdb(panels, rows int) tile {
	t := tile512(panels, tileV)
	t.rows, t.strided = rows, true
	t.name = "sgemmKernel" + itoa(rows) + "x" + itoa(16*tileV) + "LdbAVX512"
	return t
}

// sgemmLdb emits the ldb tiles: 12×32, 6×32 and the first 1..5 rows of a
// six-row panel (the last rows of C, written in place).
func sgemmLdb() {
	tileKernel(tileLdb(1, tileM))
	tileKernel(tileLdb(2, 2*tileM))
	for r := 1; r < tileM; r++ {
		tileKernel(tileLdb(1, r))
	}
}

// sgemm6x16 is the AVX2 6×16 micro-kernel: twelve ymm accumulators; per p
// two ymm loads of the packed B row and six broadcasts of the packed A
// column, each used by two vfmadd231ps; unrolled four times, with the
// hand-written kernel's prefetches (b 512 and 576 bytes ahead, nothing
// else).
func sgemm6x16() {
	tileKernel(tile{name: "sgemmKernelAVX2", w: ymm, panels: 1, vecs: tileV, prefB: [2]int{512, 576}})
	tileKernel(tile{name: "sgemmKernelBiasReLUAVX2", w: ymm, panels: 1, vecs: tileV, prefB: [2]int{512, 576}, biasReLU: true})
}

// sgemm6x32 is the 6×32 micro-kernel: twelve zmm accumulators; per p two
// zmm loads of the packed B row and six broadcasts of the packed A column,
// each used by two vfmadd231ps; unrolled four times.
func sgemm6x32() {
	sgemmTile(1, tileV)
	t := tile512(1, tileV)
	t.name, t.biasReLU, t.prefC = "sgemmKernel6x32BiasReLUAVX512", true, false
	tileKernel(t)
}

// sgemm12x32 is the 12×32 micro-kernel: two six-row A panels (adjacent in
// the packed block, kc·6 floats apart) against one B panel, so that each
// pair of B loads feeds 24 vfmadd231ps; 24 accumulators, so registers 16–31
// are used and zeroed before returning (VZEROUPPER leaves them alone).
func sgemm12x32() { sgemmTile(2, tileV) }

// sgemm12x16 is the 12×16 micro-kernel for narrow products (n ≤ 16) on the
// AVX-512 level: two six-row A panels against a kc×16 B panel (the AVX2
// packing), one zmm of B per p feeding twelve vfmadd231ps, twelve
// accumulators (registers 0–15 suffice).
func sgemm12x16() { sgemmTile(2, 1) }

// sgemmTile emits the AVX-512 micro-kernel of panels six-row A panels by
// vecs zmm (16·vecs columns) of B.
func sgemmTile(panels, vecs int) { tileKernel(tile512(panels, vecs)) }

// tileKernel emits the micro-kernel t (of either width).
func tileKernel(t tile) {
	panels, vecs, vb := t.panels, t.vecs, int(t.w)
	rows := tileM * panels
	if t.rows != 0 {
		rows = t.rows
	}
	cols := vecs * t.w.floats()
	name := t.name
	sig := "func(kc int, a, b, c *float32, ldc int, beta float32)"
	doc := name + " sets the " + itoa(rows) + "×" + itoa(cols) + " tile c to Σ_p a(·,p)·b(p,·) + beta·c (see sgemmkernel_amd64.go)."
	switch {
	case t.strided:
		sig = "func(kc int, a, b, c *float32, ldc int, beta float32, ldb int)"
	case t.biasReLU:
		sig = "func(kc int, a, b, c *float32, ldc int, bias, h *float32, ldh int)"
		doc = name + " sets the " + itoa(rows) + "×" + itoa(cols) + " tile c to Σ_p a(·,p)·b(p,·) + bias and h to max(c, 0) + 0 (see sgemmkernel_amd64.go)."
	}
	TEXT(name, NOSPLIT, sig)
	Doc(doc)
	kc := Load(Param("kc"), GP64())
	a := Mem{Base: Load(Param("a"), GP64())}
	b := Mem{Base: Load(Param("b"), GP64())}
	var ldb, ldb3 GPVirtual
	if t.strided {
		ldb = Load(Param("ldb"), GP64()).(GPVirtual)
		SHLQ(U8(2), ldb)
		ldb3 = GP64()
		LEAQ(Mem{Base: ldb, Index: ldb, Scale: 2}, ldb3)
	}
	// bRow is B's row p (0..3) of the current group of four, byte offset off.
	bRow := func(p, off int) Mem {
		if !t.strided {
			return b.Offset(p*cols*4 + off)
		}
		switch p {
		case 0:
			return Mem{Base: b.Base, Disp: off}
		case 1:
			return Mem{Base: b.Base, Index: ldb, Scale: 1, Disp: off}
		case 2:
			return Mem{Base: b.Base, Index: ldb, Scale: 2, Disp: off}
		}
		return Mem{Base: b.Base, Index: ldb3, Scale: 1, Disp: off}
	}
	var a2 Mem
	if panels == 2 {
		Comment("a2: the second six-row panel, kc·24 bytes after the first.")
		a2 = Mem{Base: GP64()}
		MOVQ(kc, a2.Base)
		IMUL3Q(U32(4*tileM), a2.Base, a2.Base)
		ADDQ(a.Base, a2.Base)
	}
	if t.prefC {
		Comment("Fetch the C tile (two lines per row, rows ldc apart, usually not in L1 or L2) while the",
			"loop runs, so that the update at the end does not wait for it.")
		cp := GP64()
		Load(Param("c"), cp)
		ld := Load(Param("ldc"), GP64())
		SHLQ(U8(2), ld)
		for i := 0; i < rows; i++ {
			for v := 0; v < vecs; v++ {
				PREFETCHT0(Mem{Base: cp, Disp: vb * v})
			}
			if i < rows-1 {
				ADDQ(ld, cp)
			}
		}
	}
	acc := zeroedVecs(t.w, rows, vecs)
	nrBytes := cols * 4
	const mrBytes = tileM * 4
	// One set of B and broadcast registers for every step, so that clean
	// can name every zmm the kernel writes.
	bv := make([]VecVirtual, vecs)
	for j := range bv {
		bv[j] = t.w.vec()
	}
	ai := t.w.vec()
	step := func(p int) {
		for j := range bv {
			VMOVUPS(bRow(p, vb*j), bv[j])
		}
		if t.strided && panels == 2 {
			for j := range bv {
				PREFETCHT1(bRow(p, vb*(len(bv)+j)))
			}
		}
		for i := 0; i < rows; i++ {
			src := a.Offset(p*mrBytes + 4*i)
			if i >= tileM {
				src = a2.Offset(p*mrBytes + 4*(i-tileM))
			}
			VBROADCASTSS(src, ai)
			for j := range bv {
				VFMADD231PS(bv[j], ai, acc[i][j])
			}
		}
	}
	advance := func(steps int) {
		ADDQ(U32(steps*mrBytes), a.Base)
		if panels == 2 {
			ADDQ(U32(steps*mrBytes), a2.Base)
		}
		switch {
		case !t.strided:
			ADDQ(U32(steps*nrBytes), b.Base)
		case steps == 4:
			LEAQ(Mem{Base: b.Base, Index: ldb, Scale: 4}, b.Base)
		default:
			ADDQ(ldb, b.Base)
		}
	}
	Label("loop4")
	CMPQ(kc, U32(4))
	JL(LabelRef("loop1"))
	if !t.strided {
		PREFETCHT0(b.Offset(t.prefB[0]))
	}
	if t.prefA != 0 {
		PREFETCHT0(a.Offset(t.prefA))
		if panels == 2 {
			PREFETCHT0(a2.Offset(t.prefA))
		}
	}
	step(0)
	step(1)
	if !t.strided {
		PREFETCHT0(b.Offset(t.prefB[1]))
	}
	step(2)
	step(3)
	advance(4)
	SUBQ(U32(4), kc)
	JMP(LabelRef("loop4"))

	Label("loop1")
	TESTQ(kc, kc)
	JZ(LabelRef("update"))
	step(0)
	advance(1)
	DECQ(kc)
	JMP(LabelRef("loop1"))

	Label("update")
	if t.biasReLU {
		zero := biasReLUEpilogue(t.w, acc)
		clean(acc, bv, ai, zero)
		RET()
		return
	}
	beta := t.w.vec()
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
			VMOVUPS(acc[i][j], c.Offset(vb*j))
		}
		if i < rows-1 {
			ADDQ(ldc, c.Base)
		}
	}
	clean(acc, bv, ai, beta)
	RET()

	Label("accumulate")
	VBROADCASTSS(NewParamAddr("beta", 40), beta)
	for i := range acc {
		for j := range acc[i] {
			VFMADD231PS(c.Offset(vb*j), beta, acc[i][j])
			VMOVUPS(acc[i][j], c.Offset(vb*j))
		}
		if i < rows-1 {
			ADDQ(ldc, c.Base)
		}
	}
	clean(acc, bv, ai, beta)
	RET()
}

// biasReLUEpilogue ends a tile of SgemmBiasReLU's products: each row's
// accumulators get the bias added (vaddps: fl(acc + bias), the rounding of
// the beta = 1 update with C holding the bias) and are stored to c, then
// max(·, 0) + 0 (reluKernel's Go max) is stored to h.
func biasReLUEpilogue(w width, acc [][]VecVirtual) (zero VecVirtual) {
	c := Mem{Base: Load(Param("c"), GP64())}
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	bias := Mem{Base: Load(Param("bias"), GP64())}
	h := Mem{Base: Load(Param("h"), GP64())}
	ldh := Load(Param("ldh"), GP64())
	SHLQ(U8(2), ldh)
	zero = w.vec()
	VXORPS(zero, zero, zero)
	vb := int(w)
	for i := range acc {
		for j := range acc[i] {
			VADDPS(bias.Offset(vb*j), acc[i][j], acc[i][j])
			VMOVUPS(acc[i][j], c.Offset(vb*j))
			VMAXPS(acc[i][j], zero, acc[i][j])
			VADDPS(zero, acc[i][j], acc[i][j])
			VMOVUPS(acc[i][j], h.Offset(vb*j))
		}
		if i < len(acc)-1 {
			ADDQ(ldc, c.Base)
			ADDQ(ldh, h.Base)
		}
	}
	return zero
}

// clean ends a tile: with the 12-row tile avo needs registers 16–31 for
// its 24 accumulators, and VZEROUPPER clears the upper halves of 0–15 only,
// so every zmm the kernel wrote is zeroed first with EVEX vpxord on its xmm
// form (which zeroes the whole zmm). Then VZEROUPPER.
func clean(acc [][]VecVirtual, bv []VecVirtual, more ...VecVirtual) {
	if len(acc)*len(acc[0]) > 2*tileM {
		regs := append(append([]VecVirtual(nil), bv...), more...)
		for i := range acc {
			regs = append(regs, acc[i][:]...)
		}
		for _, r := range regs {
			x := r.AsX()
			VPXORD(x, x, x)
		}
	}
	VZEROUPPER()
}

// zeroedVecs returns rows×cols new accumulators of width w, each cleared.
func zeroedVecs(w width, rows, cols int) [][]VecVirtual {
	acc := make([][]VecVirtual, rows)
	for i := range acc {
		acc[i] = make([]VecVirtual, cols)
		for j := range acc[i] {
			acc[i][j] = w.vec()
			VXORPS(acc[i][j], acc[i][j], acc[i][j])
		}
	}
	return acc
}
