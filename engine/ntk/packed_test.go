package ntk

import (
	"math"
	"testing"

	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/kernels"
)

// TestRehashPackedWeights: the rehash and the full passes with the weights
// packed once (nn.PackWeights, the default) give every field bit for bit
// as with the weights packed per product, on every CPU backend (and a
// thread-capped one), for networks with two and three hidden layers, norms
// only and hashed, with batches that leave a short last one; and a pass
// after the parameters changed in place computes with the new values.
func TestRehashPackedWeights(t *testing.T) {
	const n, in = 700, 9
	ds := smallTeacher(n, in, 1, 3)
	var backends []kernels.Backend
	for _, name := range kernels.Names() {
		b, _, err := kernels.Select(name)
		if err != nil {
			continue
		}
		backends = append(backends, b, kernels.WithMaxThreads(b, 1))
	}
	same := func(t *testing.T, what string, got, want []float64) {
		t.Helper()
		for i := range want {
			if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
				t.Fatalf("%s[%d]: packed %v, per product %v", what, i, got[i], want[i])
			}
		}
	}
	for _, be := range backends {
		for _, hidden := range [][]int{{300, 40}, {64, 33, 17}} {
			m, err := nn.New(nn.Config{In: in, Out: 1, Hidden: hidden, Activation: nn.ReLU, Seed: 4})
			if err != nil {
				t.Fatal(err)
			}
			h, err := NewHasher(m, HashConfig{K: 1, L: 8, Family: Structured, Seed: 5, MIPS: true})
			if err != nil {
				t.Fatal(err)
			}
			opt := RehashOptions{Batch: 64, Workers: 2}
			for _, hh := range []*Hasher{nil, h} {
				got := Rehash(be, m, ds.X, ds.Y, n, hh, opt, nil)
				restore := nn.SetWeightPacking(false)
				want := Rehash(be, m, ds.X, ds.Y, n, hh, opt, nil)
				restore()
				name := be.Name() + " " + m.String()
				same(t, name+" ANorm", got.ANorm, want.ANorm)
				same(t, name+" B", got.B, want.B)
				same(t, name+" F0", got.F0, want.F0)
				same(t, name+" GradNorm0", got.GradNorm0, want.GradNorm0)
				if hh != nil {
					for i := range want.Codes {
						if got.Codes[i] != want.Codes[i] {
							t.Fatalf("%s code %d: packed %x, per product %x", name, i, got.Codes[i], want.Codes[i])
						}
					}
				}
			}
			p := NewPasses(be, m, ds.X, ds.Y, n, 32, 2)
			got, want := make([]float64, n), make([]float64, n)
			p.GradNorms(m.Params, nil, got)
			restore := nn.SetWeightPacking(false)
			p.GradNorms(m.Params, nil, want)
			wantLoss := p.MeanLoss(m.Params, ds.X, ds.Y, n)
			restore()
			same(t, be.Name()+" GradNorms", got, want)
			if gl := p.MeanLoss(m.Params, ds.X, ds.Y, n); math.Float64bits(gl) != math.Float64bits(wantLoss) {
				t.Fatalf("%s MeanLoss: packed %v, per product %v", be.Name(), gl, wantLoss)
			}
			// The same vector changed in place, then a pass too short to
			// pack (40 points): it must compute with the new weights, not
			// the last long pass's panels.
			for i := range m.Params {
				m.Params[i] *= 0.9
			}
			ids := make([]int, 40)
			for i := range ids {
				ids[i] = 7 * i
			}
			short, ref := make([]float64, len(ids)), make([]float64, len(ids))
			p.GradNorms(m.Params, ids, short)
			NewPasses(be, m, ds.X, ds.Y, n, 32, 1).GradNorms(m.Params, ids, ref)
			same(t, be.Name()+" GradNorms after an in-place change", short, ref)
		}
	}
}
