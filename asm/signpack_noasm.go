//go:build !amd64 || noasm || purego || !gc

package asm

func signPack(_ ISA, m, k, l int, p []float32, ldp int, codes []uint32) {
	SignPackGeneric(m, k, l, p, ldp, codes)
}
