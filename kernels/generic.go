package kernels

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/ntklsh/ntklsh/asm"
)

// Generic is the pure-Go backend: GEMM through gonum's native BLAS, the
// vector primitives, the ReLU kernels and the fused ReLU norms (it implements
// ReLUKernels and ReLUNorms) through the pure-Go twins of package asm. It is always available and is the
// reference every other backend is tested against.
var Generic Backend = generic{}

var (
	_ ReLUKernels = generic{}
	_ ReLUNorms   = generic{}
)

type generic struct{}

var gonumBLAS gonum.Implementation

func (generic) Name() string { return "generic" }

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

func (generic) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	asm.CheckSgemm("kernels", transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	if beta == 0 {
		// gonum reads C when beta == 0 only to multiply it by zero; clear
		// it so that NaN in a fresh buffer never leaks through.
		scaleC(m, n, 0, c, ldc)
	}
	gonumBLAS.Sgemm(trans(transA), trans(transB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// The vector primitives are asm's pure-Go twins (the reference loops the
// assembly is tested against), which never run assembly whatever the build
// tags or NTKLSH_NOASM say.

func (generic) Dot(x, y []float32) float64 { return asm.DotGeneric(x, y) }

func (generic) Axpy(alpha float32, x, y []float32) { asm.AxpyGeneric(alpha, x, y) }

func (generic) RowSumSquares(m, n int, scale float64, a []float32, lda int, out []float64) {
	asm.RowSumSquaresGeneric(m, n, scale, a, lda, out)
}

func (generic) RowDots(m, n int, a []float32, lda int, b []float32, ldb int, out []float64) {
	asm.RowDotsGeneric(m, n, a, lda, b, ldb, out)
}

func (generic) SignPack(m, k, l int, p []float32, ldp int, codes []uint32) {
	if k < 1 || k > 32 {
		panic("kernels: SignPack needs 1 ≤ k ≤ 32")
	}
	asm.SignPackGeneric(m, k, l, p, ldp, codes)
}

func (generic) ReLU(x, y []float32) { asm.ReLUGeneric(x, y) }

func (generic) ReLUMask(h, g []float32) { asm.ReLUMaskGeneric(h, g) }

func (generic) MaskedRowNorms(m, n int, h []float32, ldh int, w []float32, out []float64) {
	asm.Go.MaskedRowNorms(m, n, h, ldh, w, out) // shapes checked, then the twin
}
