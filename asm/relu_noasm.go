//go:build !amd64 || noasm || purego || !gc

package asm

func relu(_ ISA, x, y []float32) { ReLUGeneric(x, y) }

func reluMask(_ ISA, h, g []float32) { ReLUMaskGeneric(h, g) }
