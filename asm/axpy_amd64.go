//go:build !noasm && gc

package asm

// axpyAVX2 computes y[i] += alpha·x[i] over len(x) elements (len(y) ≥ len(x))
// with one fused multiply-add per element (vfmadd231ps), so each result is
// rounded once. Reference loop:
//
//	for i, v := range x {
//		y[i] += alpha * v
//	}
//
//go:noescape
func axpyAVX2(alpha float32, x, y []float32)

func axpy(alpha float32, x, y []float32) {
	if useAsm.Load() {
		raceRead32(x)
		raceWrite32(y)
		axpyAVX2(alpha, x, y)
		return
	}
	axpyGeneric(alpha, x, y)
}
