package asm

// rowSumSquaresGeneric is the pure-Go twin of rowSumSquaresAVX2.
func rowSumSquaresGeneric(m, n int, scale float64, a []float32, lda int, out []float64) {
	for i := 0; i < m; i++ {
		row := a[i*lda : i*lda+n]
		out[i] = scale * dotGeneric(row, row)
	}
}
