//go:build !amd64 || noasm || purego || !gc

package asm

func maskedRowNorms(_ ISA, m, n int, h []float32, ldh int, w []float32, out []float64) {
	MaskedRowNormsGeneric(m, n, h, ldh, w, out)
}
