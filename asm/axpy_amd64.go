//go:build !noasm && !purego && gc

package asm

// axpyAVX2 computes y[i] += alpha·x[i] over len(x) elements (len(y) ≥ len(x))
// with one fused multiply-add per element (vfmadd231ps), so each result is
// rounded once. The reference is the pure-Go twin, AxpyGeneric.
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
	AxpyGeneric(alpha, x, y)
}
