package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// GEMM register tile of the AVX-512 micro-kernels: tileM (6) or 2·tileM
// rows by tileV zmm (sixteen floats each) of columns.
const (
	tileM = 6
	tileV = 2
)

// sgemm6x32 is the 6×32 micro-kernel: twelve zmm accumulators; per p two
// zmm loads of the packed B row and six broadcasts of the packed A column,
// each used by two vfmadd231ps; unrolled four times.
func sgemm6x32() { sgemmTileRows(1, tileM, tileV, false) }

// sgemm12x32 is the 12×32 micro-kernel: two six-row A panels (adjacent in
// the packed block, kc·6 floats apart) against one B panel, so that each
// pair of B loads feeds 24 vfmadd231ps; 24 accumulators, so registers 16–31
// are used and zeroed before returning (VZEROUPPER leaves them alone).
func sgemm12x32() { sgemmTileRows(2, 2*tileM, tileV, false) }

// sgemm12x16 is the 12×16 micro-kernel for narrow products (n ≤ 16) on the
// AVX-512 level: two six-row A panels against a kc×16 B panel (the AVX2
// packing), one zmm of B per p feeding twelve vfmadd231ps, twelve
// accumulators (registers 0–15 suffice).
func sgemm12x16() { sgemmTileRows(2, 2*tileM, 1, false) }

// sgemm6x32Ldb and sgemm12x32Ldb are the 6×32 and 12×32 tiles reading B
// straight from the matrix, row p at b + p·ldb floats, instead of from a
// packed panel: the NN path that does not pack B (same FMA chain per
// element, so bit-identical to the packed tiles); sgemmEdgeLdb are the same for the first 1..5 rows of a six-row A panel
// (the last rows of C, written in place).
func sgemm6x32Ldb()  { sgemmTileRows(1, tileM, tileV, true) }
func sgemm12x32Ldb() { sgemmTileRows(2, 2*tileM, tileV, true) }
func sgemmEdgeLdb() {
	for r := 1; r < tileM; r++ {
		sgemmTileRows(1, r, tileV, true)
	}
}

// sgemmTileRows emits the micro-kernel of panels six-row A panels (the
// first rows rows of them) by vecs zmm (16·vecs columns) of B; strided:
// B's rows are ldb floats apart (an extra last argument) instead of packed
// 16·vecs apart.
func sgemmTileRows(panels, rows, vecs int, strided bool) {
	cols := 16 * vecs
	name := "sgemmKernel" + itoa(rows) + "x" + itoa(cols) + "AVX512"
	sig := "func(kc int, a, b, c *float32, ldc int, beta float32)"
	if strided {
		name = "sgemmKernel" + itoa(rows) + "x" + itoa(cols) + "LdbAVX512"
		sig = "func(kc int, a, b, c *float32, ldc int, beta float32, ldb int)"
	}
	TEXT(name, NOSPLIT, sig)
	Doc(name + " sets the " + itoa(rows) + "×" + itoa(cols) + " tile c to Σ_p a(·,p)·b(p,·) + beta·c (see sgemmkernel_amd64.go).")
	kc := Load(Param("kc"), GP64())
	a := Mem{Base: Load(Param("a"), GP64())}
	b := Mem{Base: Load(Param("b"), GP64())}
	var ldb, ldb3 GPVirtual
	if strided {
		ldb = Load(Param("ldb"), GP64()).(GPVirtual)
		SHLQ(U8(2), ldb)
		ldb3 = GP64()
		LEAQ(Mem{Base: ldb, Index: ldb, Scale: 2}, ldb3)
	}
	// bRow is B's row p (0..3) of the current group of four, byte offset off.
	bRow := func(p, off int) Mem {
		if !strided {
			return b.Offset(p*16*vecs*4 + off)
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
	Comment("Fetch the C tile (two lines per row, rows ldc apart, usually not in L1 or L2) while the",
		"loop runs, so that the update at the end does not wait for it.")
	{
		cp := GP64()
		Load(Param("c"), cp)
		ld := Load(Param("ldc"), GP64())
		SHLQ(U8(2), ld)
		for i := 0; i < rows; i++ {
			for v := 0; v < vecs; v++ {
				PREFETCHT0(Mem{Base: cp, Disp: 64 * v})
			}
			if i < rows-1 {
				ADDQ(ld, cp)
			}
		}
	}
	acc := zeroedZMM(rows, vecs)
	nrBytes := 16 * vecs * 4
	const mrBytes = tileM * 4
	// One set of B and broadcast registers for every step, so that clean
	// can name every zmm the kernel writes.
	bv := make([]VecVirtual, vecs)
	for j := range bv {
		bv[j] = ZMM()
	}
	ai := ZMM()
	step := func(p int) {
		for j := range bv {
			VMOVUPS(bRow(p, 64*j), bv[j])
		}
		if strided && panels == 2 {
			// The next 32 columns of this row of B into L2: the rows are
			// ldb apart, each in its own page, which the hardware
			// prefetchers do not follow.
			for j := range bv {
				PREFETCHT1(bRow(p, 64*(len(bv)+j)))
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
		case !strided:
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
	if !strided {
		PREFETCHT0(b.Offset(4 * 4 * nrBytes))
	}
	PREFETCHT0(a.Offset(384))
	if panels == 2 {
		PREFETCHT0(a2.Offset(384))
	}
	step(0)
	step(1)
	if !strided {
		PREFETCHT0(b.Offset(4*4*nrBytes + 256))
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
	beta := ZMM()
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
			VFMADD231PS(c.Offset(64*j), beta, acc[i][j])
			VMOVUPS(acc[i][j], c.Offset(64*j))
		}
		if i < rows-1 {
			ADDQ(ldc, c.Base)
		}
	}
	clean(acc, bv, ai, beta)
	RET()
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

// zeroedZMM returns rows×cols new zmm accumulators, each cleared.
func zeroedZMM(rows, cols int) [][]VecVirtual {
	acc := make([][]VecVirtual, rows)
	for i := range acc {
		acc[i] = make([]VecVirtual, cols)
		for j := range acc[i] {
			acc[i][j] = ZMM()
			VXORPS(acc[i][j], acc[i][j], acc[i][j])
		}
	}
	return acc
}
