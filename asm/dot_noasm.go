//go:build !amd64 || noasm || purego || !gc

package asm

func dot(_ ISA, x, y []float32) float64 { return DotGeneric(x, y) }
