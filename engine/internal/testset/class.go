package testset

import (
	"math/rand/v2"

	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/kernels"
)

// SmallClassTeacher is a classification set: n points with d standard
// normal inputs, labelled by the argmax of a random tanh network's logits
// (8 hidden units) plus a class-dependent offset, so that the classes are
// imbalanced (class 0 the most frequent), with one label in 20 flipped to
// a uniform class; Y holds the one-hot rows (n × classes). Deterministic
// for a seed.
func SmallClassTeacher(be kernels.Backend, n, d, classes int, seed uint64) *data.Dataset {
	rng := rand.New(rand.NewPCG(seed, 5))
	teacher, _ := nn.New(nn.Config{In: d, Out: classes, Hidden: []int{8}, Activation: nn.Tanh, Seed: seed + 7})
	ds := &data.Dataset{Name: "c", N: n, D: d, O: classes, X: make([]float32, n*d), Y: make([]float32, n*classes)}
	for i := range ds.X {
		ds.X[i] = float32(rng.NormFloat64())
	}
	b := teacher.NewBatch(n)
	b.Forward(be, teacher.Params, ds.X, n)
	f := b.Output()
	for i := 0; i < n; i++ {
		row := f[i*classes : (i+1)*classes]
		for o := range row {
			row[o] -= 0.4 * float32(o)
		}
		c := nn.Argmax(row)
		if rng.IntN(20) == 0 {
			c = rng.IntN(classes)
		}
		ds.Y[i*classes+c] = 1
	}
	return ds
}
