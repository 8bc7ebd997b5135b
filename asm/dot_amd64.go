//go:build !noasm && !purego && gc

package asm

// dotAVX2 returns Σ x[i]·y[i] over len(x) elements in float64; len(y) ≥
// len(x). Each product is exact in float64 and summed into sixteen float64
// lanes (vcvtps2pd + vfmadd231pd), then reduced. The reference is the
// pure-Go twin, DotGeneric.
//
//go:noescape
func dotAVX2(x, y []float32) float64

func dot(x, y []float32) float64 {
	if useAsm.Load() {
		raceRead32(x)
		raceRead32(y)
		return dotAVX2(x, y)
	}
	return DotGeneric(x, y)
}
