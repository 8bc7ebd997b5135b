//go:build !noasm && !purego && gc && amd64

package kernels

import "github.com/ntklsh/ntklsh/asm"

// avx2Backend runs every primitive on the AVX2+FMA assembly kernels of
// package asm (6×16 FMA GEMM micro-kernel with packing and cache blocking,
// float64-accumulating reductions, vcmpps/vmovmskps sign packing).
type avx2Backend struct{}

func init() {
	Register(avx2Backend{}, 10, func() (bool, string) {
		ok, why := asm.Supported()
		if ok && !asm.Enabled() {
			return false, "assembly disabled (" + asm.NoAsmEnv + "=1)"
		}
		return ok, why
	})
}

func (avx2Backend) Name() string { return "avx2" }

func (avx2Backend) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	asm.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func (avx2Backend) Dot(x, y []float32) float64 { return asm.Dot(x, y) }

func (avx2Backend) Axpy(alpha float32, x, y []float32) { asm.Axpy(alpha, x, y) }

func (avx2Backend) RowSumSquares(m, n int, scale float64, a []float32, lda int, out []float64) {
	asm.RowSumSquares(m, n, scale, a, lda, out)
}

func (avx2Backend) RowDots(m, n int, a []float32, lda int, b []float32, ldb int, out []float64) {
	asm.RowDots(m, n, a, lda, b, ldb, out)
}

func (avx2Backend) SignPack(m, k, l int, p []float32, ldp int, codes []uint32) {
	asm.SignPack(m, k, l, p, ldp, codes)
}

func (avx2Backend) ReLU(x, y []float32) { asm.ReLU(x, y) }

func (avx2Backend) ReLUMask(h, g []float32) { asm.ReLUMask(h, g) }

// SgemmThreads implements ThreadLimiter.
func (avx2Backend) SgemmThreads(maxThreads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	asm.SgemmThreads(maxThreads, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
