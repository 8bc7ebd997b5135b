//go:build !amd64 || noasm || purego || !gc

package asm

func packAT6(_ ISA, panel, a []float32, lda, kb int, alpha float32) {
	if kb <= 0 {
		return
	}
	packAT6Generic(panel, a, lda, kb, alpha)
}
