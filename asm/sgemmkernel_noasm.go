//go:build !amd64 || noasm || purego || !gc

package asm

func sgemmKernel(kc int, a, b, c []float32, ldc int, beta float32) {
	sgemmKernelGeneric(kc, a, b, c, ldc, beta)
}
