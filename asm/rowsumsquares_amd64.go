//go:build !noasm && !purego && gc

package asm

// rowSumSquaresAVX2 sets out[i] = scale·Σ_{j<n} a[i*lda+j]² for i < m
// (m ≥ 1, shapes checked by the caller), squaring in float64 and summing in
// sixteen float64 lanes per row. The reference is the pure-Go twin,
// RowSumSquaresGeneric.
//
//go:noescape
func rowSumSquaresAVX2(m, n int, scale float64, a []float32, lda int, out []float64)

func rowSumSquares(m, n int, scale float64, a []float32, lda int, out []float64) {
	if useAsm.Load() {
		raceReadRows32(m, n, a, lda)
		raceWrite64(out[:m])
		rowSumSquaresAVX2(m, n, scale, a, lda, out)
		return
	}
	RowSumSquaresGeneric(m, n, scale, a, lda, out)
}
