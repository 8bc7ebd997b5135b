package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ntklsh/ntklsh/kernels"
)

// TestForwardOutputs checks that ForwardOutputs gives every activation and
// output bit for bit as Forward, on every backend (through the dense ReLU
// layer where the backend has one): ReLU networks with one and three hidden
// layers, 16 input features (asm's fused epilogue) and 300 (its fallback),
// batches of 1, 5, 32 and 256; and a tanh network (Forward's path).
func TestForwardOutputs(t *testing.T) {
	for _, be := range backends(t) {
		_, dense := be.(kernels.DenseReLU)
		for _, cfg := range []Config{
			{In: 16, Out: 1, Hidden: []int{1024}, Activation: ReLU, Seed: 5},
			{In: 16, Out: 3, Hidden: []int{40, 33, 7}, Activation: ReLU, Seed: 6},
			{In: 300, Out: 1, Hidden: []int{64}, Activation: ReLU, Seed: 7},
			{In: 16, Out: 1, Hidden: []int{20}, Activation: Tanh, Seed: 8},
		} {
			m, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(8, 9))
			for _, n := range []int{1, 5, 32, 256} {
				x := randData(rng, n, cfg.In)
				outs, ref := m.NewBatch(n), m.NewBatch(n)
				outs.ForwardOutputs(be, m.Params, x, n)
				ref.Forward(be, m.Params, x, n)
				for l := 1; l <= m.Layers(); l++ {
					got, want := outs.Z[l], ref.Z[l]
					if l < m.Layers() {
						got, want = outs.H[l], ref.H[l]
					}
					for i := 0; i < n*m.Sizes[l]; i++ {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%s (dense ReLU layer: %v) %v n=%d layer %d element %d: %v, Forward %v", be.Name(), dense, m, n, l, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestForwardOutputsGuards checks that the two readers of hidden
// pre-activations refuse to run after ForwardOutputs has left them stale,
// and run again after Forward.
func TestForwardOutputsGuards(t *testing.T) {
	for _, be := range backends(t) {
		if _, ok := be.(kernels.DenseReLU); !ok {
			continue
		}
		m, err := New(Config{In: 4, Out: 1, Hidden: []int{8}, Activation: ReLU, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		x := randData(rand.New(rand.NewPCG(1, 1)), 3, 4)
		b := m.NewBatch(3)
		b.ForwardOutputs(be, m.Params, x, 3)
		b.BackwardOnes(be, m.Params)
		mustPanic(t, "DeltaDotZ", func() { b.DeltaDotZ(be, make([]float64, 3)) })
		b.Forward(be, m.Params, x, 3)
		b.BackwardOnes(be, m.Params)
		b.DeltaDotZ(be, make([]float64, 3)) // fine again
	}
}

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Fatalf("%s after ForwardOutputs did not panic", what)
		}
	}()
	f()
}
