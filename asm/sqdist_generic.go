package asm

// SqDistGeneric is the pure-Go twin of sqDistAVX2 and the reference loop of
// SqDist: Σ (x[i] − y[i])² over len(x) elements, the difference in float32,
// its square summed in float64 with four partial sums as DotGeneric sums
// products; len(y) ≥ len(x). It is always compiled and never runs assembly.
func SqDistGeneric(x, y []float32) float64 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		d0, d1, d2, d3 := float64(x[i]-y[i]), float64(x[i+1]-y[i+1]), float64(x[i+2]-y[i+2]), float64(x[i+3]-y[i+3])
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(x); i++ {
		d := float64(x[i] - y[i])
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}
