package asm

// RowDotsGeneric is the pure-Go twin of rowDotsAVX2 and the reference loop
// of RowDots: out[i] = DotGeneric of row i of a and of b (n elements) for
// i < m. Always compiled, never assembly.
func RowDotsGeneric(m, n int, a []float32, lda int, b []float32, ldb int, out []float64) {
	for i := 0; i < m; i++ {
		out[i] = DotGeneric(a[i*lda:i*lda+n], b[i*ldb:i*ldb+n])
	}
}
