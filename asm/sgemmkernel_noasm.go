//go:build !amd64 || noasm || purego || !gc

package asm

// tileNR is the width of the register tile: the Go twin's 16 whatever l.
func tileNR(ISA) int { return nr }

// tile12 and tile12x16 are never used without the assembly (no AVX-512
// level).
var tile12, tile12x16 = false, false

func sgemmKernel12(nr, kc int, a, b, c []float32, ldc int, beta float32) {
	panic("asm: sgemmKernel12 without assembly")
}

// narrowISA is l: the Go twin has one tile width.
func narrowISA(l ISA) ISA { return l }

func sgemmKernel(_ ISA, kc int, a, b, c []float32, ldc int, beta float32) {
	sgemmKernelGeneric(kc, a, b, c, ldc, beta)
}

func sgemmKernelBiasReLU(_ ISA, kc int, a, b, c []float32, ldc int, bias, h []float32, ldh int) {
	sgemmKernelGeneric(kc, a, b, c, ldc, 0)
	biasReLUGeneric(mr, nr, c, ldc, bias, h, ldh)
}
