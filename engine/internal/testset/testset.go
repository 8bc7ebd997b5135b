// Package testset makes the small data sets the engine's tests share.
package testset

import (
	"math"
	"math/rand/v2"

	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/kernels"
)

// SmallTeacher is a heavy-tailed regression set labelled by a random tanh
// network (8 hidden units) plus noise of std 0.05: n points, d Student-t(3)
// inputs scaled to unit variance, out targets. It is independent of
// engine/data's generator, and deterministic for a seed.
func SmallTeacher(be kernels.Backend, n, d, out int, seed uint64) *data.Dataset {
	rng := rand.New(rand.NewPCG(seed, 3))
	teacher, _ := nn.New(nn.Config{In: d, Out: out, Hidden: []int{8}, Activation: nn.Tanh, Seed: seed + 1})
	ds := &data.Dataset{Name: "t", N: n, D: d, O: out, X: make([]float32, n*d), Y: make([]float32, n*out)}
	for i := range ds.X {
		z := rng.NormFloat64()
		// Three products drawn and discarded: the data sets the tests
		// were written against were made with them in the stream.
		for k := 0; k < 6; k++ {
			rng.NormFloat64()
		}
		chi := 0.0
		for k := 0; k < 3; k++ {
			g := rng.NormFloat64()
			chi += g * g
		}
		ds.X[i] = float32(z / math.Sqrt(chi/3) / math.Sqrt(3))
	}
	b := teacher.NewBatch(n)
	b.Forward(be, teacher.Params, ds.X, n)
	for i, v := range b.Output() {
		ds.Y[i] = v + float32(0.05*rng.NormFloat64())
	}
	return ds
}
