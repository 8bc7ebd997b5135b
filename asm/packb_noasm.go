//go:build !amd64 || noasm || purego || !gc

package asm

func packBRows(_ ISA, panel, b []float32, ldb, kb int) { packBGeneric(nr, panel, b, ldb, kb) }
