//go:build !amd64 || noasm || purego || !gc

package asm

func sqDist(_ ISA, x, y []float32) float64 { return SqDistGeneric(x, y) }
