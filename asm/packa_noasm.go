//go:build !amd64 || noasm || purego || !gc

package asm

func packA6(_ ISA, panel, a []float32, lda, kb int, alpha float32) {
	packA6Generic(panel, a, lda, kb, alpha)
}
