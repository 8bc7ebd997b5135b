//go:build !amd64 || noasm || purego || !gc

package asm

// tileNR is the width of the register tile: the Go twin's 16 whatever l.
func tileNR(ISA) int { return nr }

// tile12 is never used without the assembly (no AVX-512 level).
var tile12 = false

func sgemmKernel12(kc int, a, b, c []float32, ldc int, beta float32) {
	panic("asm: sgemmKernel12 without assembly")
}

// narrowISA is l: the Go twin has one tile width.
func narrowISA(l ISA) ISA { return l }

func sgemmKernel(_ ISA, kc int, a, b, c []float32, ldc int, beta float32) {
	sgemmKernelGeneric(kc, a, b, c, ldc, beta)
}
