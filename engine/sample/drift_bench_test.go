package sample

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ntklsh/ntklsh/engine/ntk"
)

// BenchmarkDriftDraw measures ntk-drift's Draw of a minibatch of 32 at
// N = 115 200 points and P = 18 433 or 1 153 parameters (the width-1024 and
// width-64 teachers of the time-to-target benchmark): the O(P) |w − w0| and
// the mixture draws.
func BenchmarkDriftDraw(b *testing.B) {
	for _, p := range []int{18_433, 1_153} {
		b.Run(fmt.Sprintf("P=%d", p), func(b *testing.B) { benchDriftDraw(b, 115_200, p) })
	}
}

func benchDriftDraw(b *testing.B, n, p int) {
	r := rand.New(rand.NewPCG(1, 2))
	lin := &ntk.Linearization{N: n, ANorm: make([]float64, n), GradNorm0: make([]float64, n), W0: make([]float32, p)}
	for i := range lin.ANorm {
		lin.ANorm[i], lin.GradNorm0[i] = r.ExpFloat64(), r.ExpFloat64()
	}
	params := make([]float32, p)
	for i := range params {
		lin.W0[i] = float32(r.NormFloat64())
		params[i] = lin.W0[i] + 0.01*float32(r.NormFloat64())
	}
	s := newDrift(Options{N: n, Eps: 0.1})
	if err := s.Refit(lin); err != nil {
		b.Fatal(err)
	}
	idx, w := make([]int, 32), make([]float64, 32)
	for b.Loop() {
		if err := s.Draw(r, params, idx, w); err != nil {
			b.Fatal(err)
		}
	}
}
