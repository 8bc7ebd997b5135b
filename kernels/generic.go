package kernels

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Generic is the pure-Go backend. It is always available and is the
// reference every other backend is tested against.
var Generic Backend = generic{}

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
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
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

// checkGemm panics with a clear message when the shapes do not fit the
// buffers; these are programmer errors.
func checkGemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	if lda < ac || ldb < bc || ldc < n {
		panic("kernels: Sgemm leading dimension smaller than row length")
	}
	if len(a) < (ar-1)*lda+ac || len(b) < (br-1)*ldb+bc || len(c) < (m-1)*ldc+n {
		panic("kernels: Sgemm buffer too short for its shape")
	}
}

func (generic) Dot(x, y []float32) float64 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += float64(x[i]) * float64(y[i])
		s1 += float64(x[i+1]) * float64(y[i+1])
		s2 += float64(x[i+2]) * float64(y[i+2])
		s3 += float64(x[i+3]) * float64(y[i+3])
	}
	for ; i < len(x); i++ {
		s0 += float64(x[i]) * float64(y[i])
	}
	return (s0 + s1) + (s2 + s3)
}

func (generic) Axpy(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

func (g generic) RowSumSquares(m, n int, scale float64, a []float32, lda int, out []float64) {
	for i := 0; i < m; i++ {
		row := a[i*lda : i*lda+n]
		out[i] = scale * g.Dot(row, row)
	}
}

func (g generic) RowDots(m, n int, a []float32, lda int, b []float32, ldb int, out []float64) {
	for i := 0; i < m; i++ {
		out[i] = g.Dot(a[i*lda:i*lda+n], b[i*ldb:i*ldb+n])
	}
}

func (generic) SignPack(m, k, l int, p []float32, ldp int, codes []uint32) {
	if k < 1 || k > 32 {
		panic("kernels: SignPack needs 1 ≤ k ≤ 32")
	}
	for i := 0; i < m; i++ {
		row := p[i*ldp : i*ldp+k*l]
		out := codes[i*l : i*l+l]
		for t := range out {
			var code uint32
			for j, v := range row[t*k : t*k+k] {
				if v > 0 {
					code |= 1 << uint(j)
				}
			}
			out[t] = code
		}
	}
}
