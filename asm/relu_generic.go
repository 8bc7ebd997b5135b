package asm

import "math"

// reluGeneric is the pure-Go twin of reluAVX2: y[i] = max(x[i], 0).
func reluGeneric(x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] = max(v, 0)
	}
}

// reluMaskGeneric is the pure-Go twin of reluMaskAVX2: g[i] = 0 where
// h[i] == 0. Branch-free: with the sign bit cleared, h is ±0 exactly when
// its bits are zero; b|−b has its top bit set for every nonzero b, and the
// arithmetic shift spreads it into a mask.
func reluMaskGeneric(h, g []float32) {
	g = g[:len(h)]
	for i, v := range h {
		b := math.Float32bits(v) &^ (1 << 31)
		mask := uint32(int32(b|-b) >> 31)
		g[i] = math.Float32frombits(math.Float32bits(g[i]) & mask)
	}
}
