//go:build !amd64 || noasm || purego || !gc

package asm

func dotKernel(_ ISA, kb int, a, b [][]float32, c []float32, ldc int, alpha, beta float32, _ []float32) {
	sgemmDotGeneric(kb, a, b, c, ldc, alpha, beta)
}

func ldbKernel(_ ISA, rows, kc int, a, b []float32, ldb int, c []float32, ldc int, beta float32) {
	sgemmKernelLdbGeneric(rows, nr512, kc, a, b, ldb, c, ldc, beta)
}
