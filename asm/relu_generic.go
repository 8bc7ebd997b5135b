package asm

import "math"

// ReLUGeneric is the pure-Go twin of reluAVX2 and the reference loop of
// ReLU: y[i] = max(x[i], 0) over len(x) elements; len(y) ≥ len(x). Always
// compiled, never assembly.
func ReLUGeneric(x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] = max(v, 0)
	}
}

// ReLUMaskGeneric is the pure-Go twin of reluMaskAVX2 and the reference
// loop of ReLUMask: g[i] = 0 where h[i] == 0 (either sign) over len(h)
// elements, g[i] unchanged elsewhere; len(g) ≥ len(h). Always compiled,
// never assembly. Branch-free (a branch mispredicts on half the elements):
// with the sign bit cleared, h is ±0 exactly when its bits are zero; b|−b
// has its top bit set for every nonzero b, and the arithmetic shift spreads
// it into a mask.
func ReLUMaskGeneric(h, g []float32) {
	g = g[:len(h)]
	for i, v := range h {
		b := math.Float32bits(v) &^ (1 << 31)
		mask := uint32(int32(b|-b) >> 31)
		g[i] = math.Float32frombits(math.Float32bits(g[i]) & mask)
	}
}
