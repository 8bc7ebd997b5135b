//go:build !amd64 || noasm || purego || !gc

package asm

func biasReLU(_ ISA, rows, cols int, z []float32, ldz int, bias, h []float32, ldh int) {
	biasReLUGeneric(rows, cols, z, ldz, bias, h, ldh)
}
