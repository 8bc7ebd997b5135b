package asm

// rowDotsGeneric is the pure-Go twin of rowDotsAVX2.
func rowDotsGeneric(m, n int, a []float32, lda int, b []float32, ldb int, out []float64) {
	for i := 0; i < m; i++ {
		out[i] = dotGeneric(a[i*lda:i*lda+n], b[i*ldb:i*ldb+n])
	}
}
