//go:build !amd64 || noasm || purego || !gc

package asm

func packBT(_ ISA, panel, b []float32, ldb, kb int) { packBTGeneric(nr, panel, b, ldb, kb) }
