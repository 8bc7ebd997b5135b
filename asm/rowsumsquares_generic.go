package asm

// RowSumSquaresGeneric is the pure-Go twin of rowSumSquaresAVX2 and the
// reference loop of RowSumSquares: out[i] = scale·DotGeneric(row, row) for
// row i of a (n elements), i < m. Always compiled, never assembly.
func RowSumSquaresGeneric(m, n int, scale float64, a []float32, lda int, out []float64) {
	for i := 0; i < m; i++ {
		row := a[i*lda : i*lda+n]
		out[i] = scale * DotGeneric(row, row)
	}
}
