//go:build !amd64 || noasm || purego || !gc

package asm

func rowSumSquares(_ ISA, m, n int, scale float64, a []float32, lda int, out []float64) {
	RowSumSquaresGeneric(m, n, scale, a, lda, out)
}
