//go:build !noasm && !purego && gc && amd64

package kernels

import "github.com/ntklsh/ntklsh/asm"

// isaBackend runs every primitive on one assembly ISA of package asm,
// pinned (asm.AVX2.Sgemm, …) whatever asm's package-wide choice is.
type isaBackend struct {
	name string
	isa  asm.ISA
}

// avx2 runs the AVX2+FMA kernels (6×16 FMA GEMM micro-kernel with packing
// and cache blocking, float64-accumulating reductions, vcmpps/vmovmskps sign
// packing); avx512 the AVX-512 ones (6×32 micro-kernel, zmm reductions and
// element-wise loops with mask-register tails, vcmpps→kmov sign packing).
var (
	avx2   = isaBackend{"avx2", asm.AVX2}
	avx512 = isaBackend{"avx512", asm.AVX512}
)

// isaUsable says whether l's kernels can run: supported here and not
// switched off by NTKLSH_NOASM=1.
func isaUsable(l asm.ISA) func() (bool, string) {
	return func() (bool, string) {
		ok, why := asm.SupportedISA(l)
		if ok && !asm.Enabled() {
			return false, "assembly disabled (" + asm.NoAsmEnv + "=1)"
		}
		return ok, why
	}
}

func init() {
	Register(avx2, 10, isaUsable(asm.AVX2))
	// AVX-512 ranks above AVX2 but is chosen automatically only where asm
	// says it pays (asm.Preferred); NTKLSH_KERNELS=avx512 forces it on any
	// CPU that supports it.
	RegisterAuto(avx512, 20, isaUsable(asm.AVX512), func() (bool, string) {
		l, why := asm.Preferred()
		return l == asm.AVX512, why
	})
}

func (b isaBackend) Name() string { return b.name }

func (b isaBackend) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, bm []float32, ldb int, beta float32, c []float32, ldc int) {
	b.isa.Sgemm(transA, transB, m, n, k, alpha, a, lda, bm, ldb, beta, c, ldc)
}

func (b isaBackend) Dot(x, y []float32) float64 { return b.isa.Dot(x, y) }

func (b isaBackend) Axpy(alpha float32, x, y []float32) { b.isa.Axpy(alpha, x, y) }

func (b isaBackend) RowSumSquares(m, n int, scale float64, a []float32, lda int, out []float64) {
	b.isa.RowSumSquares(m, n, scale, a, lda, out)
}

func (b isaBackend) RowDots(m, n int, a []float32, lda int, bm []float32, ldb int, out []float64) {
	b.isa.RowDots(m, n, a, lda, bm, ldb, out)
}

func (b isaBackend) SignPack(m, k, l int, p []float32, ldp int, codes []uint32) {
	b.isa.SignPack(m, k, l, p, ldp, codes)
}

func (b isaBackend) ReLU(x, y []float32) { b.isa.ReLU(x, y) }

func (b isaBackend) ReLUMask(h, g []float32) { b.isa.ReLUMask(h, g) }

func (b isaBackend) MaskedRowNorms(m, n int, h []float32, ldh int, w []float32, out []float64) {
	b.isa.MaskedRowNorms(m, n, h, ldh, w, out)
}

func (b isaBackend) LinearReLU(m, n, k int, x []float32, ldx int, w []float32, ldw int, bias, z []float32, ldz int, h []float32, ldh int) {
	b.isa.SgemmBiasReLU(0, m, n, k, x, ldx, w, ldw, bias, z, ldz, h, ldh)
}

func (b isaBackend) linearReLUThreads(maxThreads, m, n, k int, x []float32, ldx int, w []float32, ldw int, bias, z []float32, ldz int, h []float32, ldh int) {
	b.isa.SgemmBiasReLU(maxThreads, m, n, k, x, ldx, w, ldw, bias, z, ldz, h, ldh)
}

// SgemmThreads implements ThreadLimiter.
func (b isaBackend) SgemmThreads(maxThreads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, bm []float32, ldb int, beta float32, c []float32, ldc int) {
	b.isa.SgemmThreads(maxThreads, transA, transB, m, n, k, alpha, a, lda, bm, ldb, beta, c, ldc)
}

// asmPacked returns p as asm's PackedB (nil stays nil); a PackedB of
// another backend is a programmer error.
func asmPacked(p PackedB) *asm.PackedB {
	if p == nil {
		return nil
	}
	ap, ok := p.(*asm.PackedB)
	if !ok {
		panic("kernels: PackedB packed by another backend")
	}
	return ap
}

// PackB implements PackedProducts.
func (b isaBackend) PackB(p PackedB, transB bool, k, n int, bm []float32, ldb int) PackedB {
	return b.isa.PackB(asmPacked(p), transB, k, n, bm, ldb)
}

// SgemmPacked implements PackedProducts.
func (b isaBackend) SgemmPacked(transA bool, m int, alpha float32, a []float32, lda int, p PackedB, beta float32, c []float32, ldc int) {
	b.sgemmPackedThreads(0, transA, m, alpha, a, lda, p, beta, c, ldc)
}

// LinearReLUPacked implements PackedProducts.
func (b isaBackend) LinearReLUPacked(m int, x []float32, ldx int, p PackedB, bias, z []float32, ldz int, h []float32, ldh int) {
	b.linearReLUPackedThreads(0, m, x, ldx, p, bias, z, ldz, h, ldh)
}

func (b isaBackend) sgemmPackedThreads(maxThreads int, transA bool, m int, alpha float32, a []float32, lda int, p PackedB, beta float32, c []float32, ldc int) {
	b.isa.SgemmPacked(maxThreads, transA, m, alpha, a, lda, asmPacked(p), beta, c, ldc)
}

func (b isaBackend) linearReLUPackedThreads(maxThreads, m int, x []float32, ldx int, p PackedB, bias, z []float32, ldz int, h []float32, ldh int) {
	b.isa.SgemmBiasReLUPacked(maxThreads, m, x, ldx, asmPacked(p), bias, z, ldz, h, ldh)
}
