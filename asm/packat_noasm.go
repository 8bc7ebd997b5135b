//go:build !amd64 || noasm || purego || !gc

package asm

func packAT(_ ISA, dst, a []float32, lda, kb, panels int, alpha float32) {
	if kb <= 0 || panels <= 0 {
		return
	}
	packATGeneric(dst, a, lda, kb, panels, alpha)
}
