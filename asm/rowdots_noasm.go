//go:build !amd64 || noasm || purego || !gc

package asm

func rowDots(_ ISA, m, n int, a []float32, lda int, b []float32, ldb int, out []float64) {
	RowDotsGeneric(m, n, a, lda, b, ldb, out)
}
