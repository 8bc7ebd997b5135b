package asm

// AxpyGeneric is the pure-Go twin of axpyAVX2 and the reference loop of
// Axpy: y[i] += alpha·x[i] over len(x) elements; len(y) ≥ len(x). Always
// compiled, never assembly.
func AxpyGeneric(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}
