package kernels

// Backend is the set of numeric primitives the engine uses. All matrices are
// row-major float32: element (i, j) of an m×n matrix a with leading dimension
// lda is a[i*lda+j], and lda ≥ n. Implementations must give the same results
// as Generic up to float32 rounding (the equivalence tests document the
// tolerance), must not allocate per element, and may use several goroutines
// inside one call. A Backend must be safe for concurrent use.
type Backend interface {
	// Name is a short identifier such as "generic" or "avx2".
	Name() string

	// Sgemm computes C = alpha·op(A)·op(B) + beta·C where op(X) is X or Xᵀ,
	// op(A) is m×k, op(B) is k×n and C is m×n. With beta == 0, C is not read
	// (NaN in C does not propagate).
	Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

	// Dot returns Σ x[i]·y[i] over len(x) elements (len(y) ≥ len(x)),
	// accumulated in float64.
	Dot(x, y []float32) float64

	// Axpy computes y[i] += alpha·x[i] over len(x) elements.
	Axpy(alpha float32, x, y []float32)

	// RowSumSquares sets out[i] = scale·Σ_j a[i*lda+j]² for i < m, j < n,
	// accumulated in float64.
	RowSumSquares(m, n int, scale float64, a []float32, lda int, out []float64)

	// RowDots sets out[i] = Σ_j a[i*lda+j]·b[i*ldb+j] for i < m, j < n,
	// accumulated in float64.
	RowDots(m, n int, a []float32, lda int, b []float32, ldb int, out []float64)

	// SignPack packs the signs of an m×(k·l) matrix of projections into
	// l codes of k bits per row (k ≤ 32): bit j of codes[i*l+t] is set
	// when p[i*ldp + t*k + j] > 0.
	SignPack(m, k, l int, p []float32, ldp int, codes []uint32)
}

// ReLUKernels is implemented by backends with vector kernels for the ReLU
// forward and backward (Generic and avx2 do); package nn uses them when the
// backend has them and Generic's, which are the reference loops, otherwise.
// Both calls are over whole activation blocks (n×width), never per element.
type ReLUKernels interface {
	// ReLU sets y[i] = max(x[i], 0) for i < len(x) with Go's max
	// semantics (NaN stays NaN, −0 becomes +0); y may alias x.
	ReLU(x, y []float32)
	// ReLUMask sets g[i] = 0 where h[i] == 0 (either sign) for i < len(h)
	// and leaves g[i] elsewhere, NaN h included.
	ReLUMask(h, g []float32)
}

// ReLUNorms is implemented by backends with a fused kernel for the per-point
// norms of a ReLU layer's backward pass (Generic, avx2 and avx512 do);
// package nn uses it for one-output networks and keeps the unfused path
// (Backward, RowSumSquares, Dot, RowDots) for backends without it (cuda).
type ReLUNorms interface {
	// MaskedRowNorms sets, for each row i < m of h (n elements, leading
	// dimension ldh) and d = w ⊙ [h ≠ 0] (ReLUMask's mask: NaN h keeps
	// w), out[3i] = Σ h², out[3i+1] = Σ d², out[3i+2] = Σ d·h in float64,
	// equal bit for bit to this backend's RowSumSquares of h (scale 1),
	// Dot(d, d) and RowDots(d, h) of the stored float32 row d.
	MaskedRowNorms(m, n int, h []float32, ldh int, w []float32, out []float64)
}

// DenseReLU is implemented by backends that compute a dense ReLU layer in
// one call (avx2 and avx512 do, by SgemmBiasReLU of package asm); package nn
// uses it for the hidden layers of ReLU networks and keeps the three steps it
// stands for on other backends (Generic, whose gonum GEMM blocks k its own
// way, and cuda).
type DenseReLU interface {
	// LinearReLU sets z = x·wᵀ + 1·biasᵀ (x: m×k, leading dimension ldx;
	// w: n×k, ldw; bias: n; z: m×n, ldz) and h = ReLU(z) (m×n, ldh;
	// ReLUKernels' semantics), equal bit for bit to copying bias into every
	// row of z, this backend's Sgemm(false, true, m, n, k, 1, x, ldx, w,
	// ldw, 1, z, ldz) and ReLU over z's rows into h.
	LinearReLU(m, n, k int, x []float32, ldx int, w []float32, ldw int, bias, z []float32, ldz int, h []float32, ldh int)
}
