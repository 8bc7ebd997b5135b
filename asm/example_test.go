package asm_test

import (
	"fmt"

	"github.com/ntklsh/ntklsh/asm"
)

// ExampleISA_PackB packs the weights of a layer once and multiplies two
// batches by them, as the rehash does for every batch of the training set:
// each product reads the packed panels and equals Sgemm's bit for bit.
func ExampleISA_PackB() {
	const in, out = 3, 2
	w := []float32{ // out × in, the layer's weights
		1, 2, 3,
		-1, 0, 1,
	}
	l := asm.Current()
	p := l.PackB(nil, true, in, out, w, in) // op(B) = wᵀ: in × out
	for _, x := range [][]float32{
		{1, 1, 1, 2, 0, 1}, // a batch of two examples
		{0, 1, 0},          // and one of one
	} {
		m := len(x) / in
		z, ref := make([]float32, m*out), make([]float32, m*out)
		l.SgemmPacked(1, false, m, 1, x, in, p, 0, z, out)             // z = x·wᵀ from the panels
		l.Sgemm(false, true, m, out, in, 1, x, in, w, in, 0, ref, out) // the same product packed per call
		fmt.Println(z, z[0] == ref[0] && z[len(z)-1] == ref[len(ref)-1])
	}
	// Output:
	// [6 0 5 -1] true
	// [2 0] true
}
