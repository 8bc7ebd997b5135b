//go:build !amd64 || noasm || purego || !gc

package asm

func relu(x, y []float32) { ReLUGeneric(x, y) }

func reluMask(h, g []float32) { ReLUMaskGeneric(h, g) }
