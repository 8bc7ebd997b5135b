//go:build !amd64 || noasm || purego || !gc

package asm

func axpy(_ ISA, alpha float32, x, y []float32) { AxpyGeneric(alpha, x, y) }
