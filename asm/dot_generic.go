package asm

// DotGeneric is the pure-Go twin of dotAVX2 and the reference loop of Dot:
// Σ x[i]·y[i] over len(x) elements in float64 with four partial sums; len(y)
// ≥ len(x). It is always compiled and never runs assembly (kernels.Generic
// uses it).
func DotGeneric(x, y []float32) float64 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += float64(x[i]) * float64(y[i])
		s1 += float64(x[i+1]) * float64(y[i+1])
		s2 += float64(x[i+2]) * float64(y[i+2])
		s3 += float64(x[i+3]) * float64(y[i+3])
	}
	for ; i < len(x); i++ {
		s0 += float64(x[i]) * float64(y[i])
	}
	return (s0 + s1) + (s2 + s3)
}
