//go:build !amd64 || noasm || purego || !gc

package asm

func packBT16(panel, b []float32, ldb, kb int) { packBT16Generic(panel, b, ldb, kb) }
