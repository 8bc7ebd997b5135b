package ntk

import (
	"math"
	"math/rand/v2"

	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/kernels"
)

var testBackend = func() kernels.Backend {
	b, _, err := kernels.Default()
	if err != nil {
		panic(err)
	}
	return b
}()

// smallTeacher is engine's test data set: a tanh teacher on heavy-tailed
// inputs plus noise.
func smallTeacher(n, d, out int, seed uint64) *data.Dataset {
	rng := rand.New(rand.NewPCG(seed, 3))
	teacher, _ := nn.New(nn.Config{In: d, Out: out, Hidden: []int{8}, Activation: nn.Tanh, Seed: seed + 1})
	ds := &data.Dataset{Name: "t", N: n, D: d, O: out, X: make([]float32, n*d), Y: make([]float32, n*out)}
	for i := range ds.X {
		// Student-t with 3 degrees of freedom: heavy tails.
		z := rng.NormFloat64()
		c := rng.NormFloat64()*rng.NormFloat64() + rng.NormFloat64()*rng.NormFloat64() + rng.NormFloat64()*rng.NormFloat64()
		_ = c
		chi := 0.0
		for k := 0; k < 3; k++ {
			g := rng.NormFloat64()
			chi += g * g
		}
		ds.X[i] = float32(z / math.Sqrt(chi/3) / math.Sqrt(3))
	}
	b := teacher.NewBatch(n)
	b.Forward(testBackend, teacher.Params, ds.X, n)
	for i, v := range b.Output() {
		ds.Y[i] = v + float32(0.05*rng.NormFloat64())
	}
	return ds
}
