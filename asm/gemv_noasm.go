//go:build !amd64 || noasm || purego || !gc

package asm

func sumRows(_ ISA, kb, n int, alpha float32, s []float32, incs int, x []float32, ldx int, out []float32) {
	sumRowsGeneric(kb, n, alpha, s, incs, x, ldx, out)
}

func rowChains(_ ISA, kb, rows int, alpha float32, a []float32, lda int, s []float32, incs int, out []float32) {
	rowChainsGeneric(kb, rows, alpha, a, lda, s, incs, out)
}
