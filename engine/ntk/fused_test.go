package ntk

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/kernels"
)

// unfused is a backend without the fused ReLU norms (as cuda is), so that
// Rehash takes BackwardOnes, GradSqNorms and DeltaDotZ; its ReLU kernels
// are the wrapped backend's, so that nothing else changes.
type unfused struct{ kernels.Backend }

func (u unfused) ReLU(x, y []float32)     { u.Backend.(kernels.ReLUKernels).ReLU(x, y) }
func (u unfused) ReLUMask(h, g []float32) { u.Backend.(kernels.ReLUKernels).ReLUMask(h, g) }

// TestRehashFusedNorms: the norms-only rehash of a one-output, one-hidden-
// layer ReLU network through the fused pass (nn.Batch.OnesNorms) gives
// ANorm, B, F0, YSum and GradNorm0 bit for bit as the unfused backward pass
// on the same backend, for every CPU backend (and a thread-capped one), at
// widths around the vector lengths, with points on which every hidden unit
// is dead; and the fused pass is taken only there (not for two hidden
// layers, two outputs or tanh).
func TestRehashFusedNorms(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	const n, in = 53, 7
	x := make([]float32, n*in)
	y := make([]float32, n)
	for i := range x {
		if i/in%9 != 4 { // every ninth point is 0: all units dead below
			x[i] = float32(3 * rng.NormFloat64())
		}
	}
	for i := range y {
		y[i] = float32(rng.NormFloat64())
	}
	var backends []kernels.Backend
	for _, name := range kernels.Names() {
		b, _, err := kernels.Select(name)
		if err != nil {
			t.Logf("skipping %s: %v", name, err)
			continue
		}
		backends = append(backends, b, kernels.WithMaxThreads(b, 1))
	}
	for _, be := range backends {
		for _, width := range []int{1, 5, 16, 17, 31, 64, 100, 1029} {
			m, err := nn.New(nn.Config{In: in, Out: 1, Hidden: []int{width}, Activation: nn.ReLU, Seed: uint64(width)})
			if err != nil {
				t.Fatal(err)
			}
			for j, v := range m.B(1) {
				// Biases ≤ 0 (some exactly 0): a zero input kills every unit.
				m.B(1)[j] = -float32(math.Abs(float64(v))) * float32(j%3)
			}
			b := m.NewBatch(n)
			b.Forward(be, m.Params, x, n)
			if !b.OnesNorms(be, m.Params, make([]float64, n), make([]float64, n)) {
				t.Fatalf("%s width %d: the fused pass was not taken", be.Name(), width)
			}
			opt := RehashOptions{Batch: 16, Workers: 2}
			got := Rehash(be, m, x, y, n, nil, opt, nil)
			want := Rehash(unfused{be}, m, x, y, n, nil, opt, nil)
			dead := 0
			for i := 0; i < n; i++ {
				if i%9 == 4 {
					dead++
				}
				for _, c := range []struct {
					name   string
					gv, wv float64
				}{{"ANorm", got.ANorm[i], want.ANorm[i]}, {"B", got.B[i], want.B[i]}, {"F0", got.F0[i], want.F0[i]},
					{"YSum", got.YSum[i], want.YSum[i]}, {"GradNorm0", got.GradNorm0[i], want.GradNorm0[i]}} {
					if math.Float64bits(c.gv) != math.Float64bits(c.wv) || math.IsNaN(c.gv) {
						t.Fatalf("%s width %d point %d: %s fused %v, unfused %v", be.Name(), width, i, c.name, c.gv, c.wv)
					}
				}
			}
			if dead == 0 {
				t.Fatal("no dead points")
			}
		}
		for _, c := range []nn.Config{
			{In: in, Out: 1, Hidden: []int{8, 8}, Activation: nn.ReLU, Seed: 1},
			{In: in, Out: 2, Hidden: []int{8}, Activation: nn.ReLU, Seed: 1},
			{In: in, Out: 1, Hidden: []int{8}, Activation: nn.Tanh, Seed: 1},
		} {
			m, err := nn.New(c)
			if err != nil {
				t.Fatal(err)
			}
			b := m.NewBatch(n)
			b.Forward(be, m.Params, x, n)
			if b.OnesNorms(be, m.Params, make([]float64, n), make([]float64, n)) {
				t.Fatalf("%s %v: fused pass taken", be.Name(), c)
			}
		}
	}
	if b := m1(t); b.OnesNorms(unfused{kernels.Generic}, nil, nil, nil) {
		t.Fatal("fused pass taken on a backend without kernels.ReLUNorms")
	}
}

// m1 is a batch of a one-hidden-layer, one-output ReLU network after a
// Forward on the generic backend.
func m1(t *testing.T) *nn.Batch {
	m, err := nn.New(nn.Config{In: 2, Out: 1, Hidden: []int{3}, Activation: nn.ReLU, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	b := m.NewBatch(1)
	b.Forward(kernels.Generic, m.Params, []float32{1, 2}, 1)
	return b
}
