package asm

// Dot returns Σ x[i]·y[i] over len(x) elements, accumulated in float64.
// len(y) must be at least len(x).
func Dot(x, y []float32) float64 { return Current().Dot(x, y) }

// Dot is the package-level Dot on the kernels of l.
func (l ISA) Dot(x, y []float32) float64 {
	l.check()
	if len(y) < len(x) {
		panic("asm: Dot needs len(y) ≥ len(x)")
	}
	return dot(l, x, y[:len(x)])
}

// SqDist returns Σ (x[i] − y[i])² over len(x) elements, the differences in
// float32 and their squares summed in float64 — Dot(d, d) for d = x − y, bit
// for bit, in one pass and without d. len(y) must be at least len(x).
func SqDist(x, y []float32) float64 { return Current().SqDist(x, y) }

// SqDist is the package-level SqDist on the kernels of l.
func (l ISA) SqDist(x, y []float32) float64 {
	l.check()
	if len(y) < len(x) {
		panic("asm: SqDist needs len(y) ≥ len(x)")
	}
	return sqDist(l, x, y[:len(x)])
}

// Axpy computes y[i] += alpha·x[i] for i < len(x) in float32. len(y) must be
// at least len(x).
func Axpy(alpha float32, x, y []float32) { Current().Axpy(alpha, x, y) }

// Axpy is the package-level Axpy on the kernels of l.
func (l ISA) Axpy(alpha float32, x, y []float32) {
	l.check()
	if len(y) < len(x) {
		panic("asm: Axpy needs len(y) ≥ len(x)")
	}
	axpy(l, alpha, x, y[:len(x)])
}

// RowSumSquares sets out[i] = scale·Σ_{j<n} a[i*lda+j]² for i < m,
// accumulated in float64.
func RowSumSquares(m, n int, scale float64, a []float32, lda int, out []float64) {
	Current().RowSumSquares(m, n, scale, a, lda, out)
}

// RowSumSquares is the package-level RowSumSquares on the kernels of l.
func (l ISA) RowSumSquares(m, n int, scale float64, a []float32, lda int, out []float64) {
	l.check()
	checkRows("RowSumSquares", m, n, a, lda)
	if len(out) < m {
		panic("asm: RowSumSquares needs len(out) ≥ m")
	}
	if m == 0 {
		return
	}
	rowSumSquares(l, m, n, scale, a, lda, out[:m])
}

// RowDots sets out[i] = Σ_{j<n} a[i*lda+j]·b[i*ldb+j] for i < m, accumulated
// in float64.
func RowDots(m, n int, a []float32, lda int, b []float32, ldb int, out []float64) {
	Current().RowDots(m, n, a, lda, b, ldb, out)
}

// RowDots is the package-level RowDots on the kernels of l.
func (l ISA) RowDots(m, n int, a []float32, lda int, b []float32, ldb int, out []float64) {
	l.check()
	checkRows("RowDots", m, n, a, lda)
	checkRows("RowDots", m, n, b, ldb)
	if len(out) < m {
		panic("asm: RowDots needs len(out) ≥ m")
	}
	if m == 0 {
		return
	}
	rowDots(l, m, n, a, lda, b, ldb, out[:m])
}

// MaskedRowNorms sets, for each row i < m of h (n elements, leading
// dimension ldh) and d = w ⊙ [h ≠ 0] (ReLUMask's mask: NaN h keeps w),
// out[3i] = Σ h², out[3i+1] = Σ d² and out[3i+2] = Σ d·h, accumulated in
// float64 in one pass and without storing d. Each equals, bit for bit on
// the same kernels, RowSumSquares of h (scale 1), Dot(d, d) and
// RowDots(d, h) of the materialized float32 row d. len(w) ≥ n, len(out) ≥ 3m.
func MaskedRowNorms(m, n int, h []float32, ldh int, w []float32, out []float64) {
	Current().MaskedRowNorms(m, n, h, ldh, w, out)
}

// MaskedRowNorms is the package-level MaskedRowNorms on the kernels of l.
func (l ISA) MaskedRowNorms(m, n int, h []float32, ldh int, w []float32, out []float64) {
	l.check()
	checkRows("MaskedRowNorms", m, n, h, ldh)
	if len(w) < n {
		panic("asm: MaskedRowNorms needs len(w) ≥ n")
	}
	if len(out) < 3*m {
		panic("asm: MaskedRowNorms needs len(out) ≥ 3m")
	}
	if m == 0 {
		return
	}
	maskedRowNorms(l, m, n, h, ldh, w[:n], out[:3*m])
}

// SignPack packs the signs of an m×(k·l) matrix p (leading dimension ldp)
// into l codes of k bits per row: bit j of codes[i*l+t] is set when
// p[i*ldp+t*k+j] > 0 (so NaN, +0 and -0 give a clear bit). 1 ≤ k ≤ 32.
func SignPack(m, k, l int, p []float32, ldp int, codes []uint32) {
	Current().SignPack(m, k, l, p, ldp, codes)
}

// SignPack is the package-level SignPack on the kernels of isa.
func (isa ISA) SignPack(m, k, l int, p []float32, ldp int, codes []uint32) {
	isa.check()
	if k < 1 || k > 32 {
		panic("asm: SignPack needs 1 ≤ k ≤ 32")
	}
	if l < 0 {
		panic("asm: SignPack needs l ≥ 0")
	}
	checkRows("SignPack", m, k*l, p, ldp)
	if len(codes) < m*l {
		panic("asm: SignPack needs len(codes) ≥ m·l")
	}
	if m == 0 || l == 0 {
		return
	}
	signPack(isa, m, k, l, p, ldp, codes[:m*l])
}

// checkRows panics when a cannot hold m rows of n elements with leading
// dimension ld.
func checkRows(name string, m, n int, a []float32, ld int) {
	if m < 0 || n < 0 {
		panic("asm: " + name + " with negative dimension")
	}
	if ld < n {
		panic("asm: " + name + " leading dimension smaller than row length")
	}
	if m > 0 && len(a) < (m-1)*ld+n {
		panic("asm: " + name + " buffer too short for its shape")
	}
}

// ReLU sets y[i] = max(x[i], 0) for i < len(x), with Go's max semantics
// (NaN stays NaN, −0 becomes +0). len(y) must be at least len(x); x and y
// may be the same slice.
func ReLU(x, y []float32) { Current().ReLU(x, y) }

// ReLU is the package-level ReLU on the kernels of l.
func (l ISA) ReLU(x, y []float32) {
	l.check()
	if len(y) < len(x) {
		panic("asm: ReLU needs len(y) ≥ len(x)")
	}
	relu(l, x, y[:len(x)])
}

// ReLUMask sets g[i] = 0 where h[i] == 0 (either sign), for i < len(h),
// and leaves g[i] unchanged elsewhere (NaN h included): the ReLU backward
// g ⊙ σ'(z) given h = max(z, 0). len(g) must be at least len(h).
func ReLUMask(h, g []float32) { Current().ReLUMask(h, g) }

// ReLUMask is the package-level ReLUMask on the kernels of l.
func (l ISA) ReLUMask(h, g []float32) {
	l.check()
	if len(g) < len(h) {
		panic("asm: ReLUMask needs len(g) ≥ len(h)")
	}
	reluMask(l, h, g[:len(h)])
}
