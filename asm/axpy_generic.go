package asm

// axpyGeneric is the pure-Go twin of axpyAVX2: y[i] += alpha·x[i], len(y) ==
// len(x).
func axpyGeneric(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}
