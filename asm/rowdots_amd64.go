//go:build !noasm && !purego && gc

package asm

// rowDotsAVX2 sets out[i] = Σ_{j<n} a[i*lda+j]·b[i*ldb+j] for i < m (m ≥ 1,
// shapes checked by the caller), multiplying in float64 and summing in
// sixteen float64 lanes per row. The reference is the pure-Go twin,
// RowDotsGeneric.
//
//go:noescape
func rowDotsAVX2(m, n int, a []float32, lda int, b []float32, ldb int, out []float64)

func rowDots(m, n int, a []float32, lda int, b []float32, ldb int, out []float64) {
	if useAsm.Load() {
		raceReadRows32(m, n, a, lda)
		raceReadRows32(m, n, b, ldb)
		raceWrite64(out[:m])
		rowDotsAVX2(m, n, a, lda, b, ldb, out)
		return
	}
	RowDotsGeneric(m, n, a, lda, b, ldb, out)
}
